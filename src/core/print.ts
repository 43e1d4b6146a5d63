/**
 * What is printed on paper, left out of the writing: a check's security pattern, a form's
 * ruled lines and the boxes of its fields. Applied to paper that was not plain (paper.ts):
 * a canvas drawing never has print, and a long stroke of it (a 7's bar across the pad) must
 * stay.
 *
 * On real scanned checks the pattern survives the paper's levelling as grey ink everywhere
 * (lighter than the writing, darker than the paper); read as it was, 7 of 218 amounts were
 * read right, and 90 with the pattern left out (docs/benchmarks.md, "Paper").
 */
import type { GrayBitmap } from './preprocess.ts';
import { bandHeight, bandsWhere, type RowBand } from './text-lines.ts';

/** Otsu's threshold of a histogram: the level that best splits it into two classes. */
export function otsuThreshold(histogram: ArrayLike<number>): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < histogram.length; i++) {
    total += histogram[i];
    sum += i * histogram[i];
  }
  let below = 0;
  let sumBelow = 0;
  let best = -1;
  let threshold = 0;
  for (let t = 0; t < histogram.length; t++) {
    below += histogram[t];
    if (below === 0) continue;
    const above = total - below;
    if (above === 0) break;
    sumBelow += t * histogram[t];
    const gap = sumBelow / below - (sum - sumBelow) / above;
    const between = below * above * gap * gap;
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/**
 * The least median darkness of a pen's ink once paper is levelled: the 218 development checks'
 * pens are 72-230 (5% under 91); a blank grey sheet's grain, 7. (A blank sheet with a
 * printed pattern stays above it, 65 in the tests: read, it is no number.)
 */
const LEAST_PEN = 40;

/**
 * The writing's ink apart from print lighter than it: darkness is split in two by Otsu's
 * threshold (paper and print below, the pen above), and the pen's ink is scaled so that its
 * median darkness is full ink. Edges keep their softness between the two.
 */
export function dropPrint(bitmap: GrayBitmap): GrayBitmap {
  const histogram = new Float64Array(256);
  for (let i = 0; i < bitmap.data.length; i++) histogram[255 - bitmap.data[i]]++;
  const low = otsuThreshold(histogram);
  let above = 0;
  for (let i = low + 1; i < 256; i++) above += histogram[i];
  let median = 255;
  for (let i = low + 1, seen = 0; i < 256; i++) {
    seen += histogram[i];
    if (seen >= above / 2) {
      median = i;
      break;
    }
  }
  // Nothing written: the darker class is the paper's own grain (a grey sheet, levelled).
  if (median < LEAST_PEN)
    return {
      width: bitmap.width,
      height: bitmap.height,
      data: new Uint8ClampedArray(bitmap.data.length).fill(255),
    };
  const span = Math.max(1, median - low);
  const data = new Uint8ClampedArray(bitmap.data.length);
  for (let i = 0; i < data.length; i++) {
    const ink = Math.max(0, Math.min(1, (255 - bitmap.data[i] - low) / span));
    data[i] = 255 - Math.round(255 * ink);
  }
  return { width: bitmap.width, height: bitmap.height, data };
}

/** Darker than this is ink, for finding lines. */
const INK = 128;
/** A ruled line runs across this share of the image's width at least... */
const RULE_LENGTH = 0.6;
/**
 * ...and a border down this share of its height, within BORDER_ZONE of its left or right edge:
 * a 1 stands nearly as tall as a field, but inside it.
 */
const BORDER_LENGTH = 0.9;
const BORDER_ZONE = 0.15;
/** ...and is at most this share of the image's other side thick (plus two pixels of blur). */
const RULE_THICKNESS = 0.08;
/** Gaps a line may have (a faint scan, JPEG) and still count as one run, in pixels. */
const RULE_GAP = 2;

/** Rows (of `get(row, i)`, `length` long each) whose longest run of ink is a ruled line's. */
function ruleBands(
  rows: number,
  length: number,
  get: (row: number, i: number) => number,
  least: number,
  thickest: number,
): RowBand[] {
  const isRule: boolean[] = [];
  for (let r = 0; r < rows; r++) {
    let longest = 0;
    let run = 0;
    let gap = 0;
    for (let i = 0; i < length; i++) {
      if (get(r, i) < INK) {
        run += 1 + gap;
        gap = 0;
        longest = Math.max(longest, run);
      } else if (run > 0 && gap < RULE_GAP) gap++;
      else {
        run = 0;
        gap = 0;
      }
    }
    isRule.push(longest >= least * length);
  }
  return bandsWhere(rows, (r) => isRule[r]).filter((b) => bandHeight(b) <= thickest);
}

/**
 * `bitmap` with its ruled lines and field borders left out: straight horizontal and vertical
 * runs of ink across most of the image, thin. Where the writing crosses a line (ink just
 * above and below it) the line's pixels are kept, so a digit written through an underline
 * keeps its stroke.
 */
export function dropRules(bitmap: GrayBitmap): GrayBitmap {
  const { width: w, height: h } = bitmap;
  const data = Uint8ClampedArray.from(bitmap.data);
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= w || y >= h ? 255 : bitmap.data[y * w + x];
  const inkNear = (x: number, y: number, dx: number, dy: number) =>
    at(x, y) < INK || at(x - dy, y - dx) < INK || at(x + dy, y + dx) < INK;
  // A line's blurred edges are cleared with it, one pixel each side.
  const clear = (x: number, y: number) => {
    if (x >= 0 && y >= 0 && x < w && y < h) data[y * w + x] = 255;
  };
  for (const band of ruleBands(h, w, (y, x) => at(x, y), RULE_LENGTH, RULE_THICKNESS * h + 2))
    for (let x = 0; x < w; x++) {
      if (inkNear(x, band.from - 2, 0, 1) && inkNear(x, band.to + 2, 0, 1)) continue;
      for (let y = band.from - 1; y <= band.to + 1; y++) clear(x, y);
    }
  const borders = ruleBands(w, h, (x, y) => at(x, y), BORDER_LENGTH, RULE_THICKNESS * w + 2);
  for (const band of borders.filter(
    (b) => b.to < BORDER_ZONE * w || b.from >= (1 - BORDER_ZONE) * w,
  ))
    for (let y = 0; y < h; y++) {
      if (inkNear(band.from - 2, y, 1, 0) && inkNear(band.to + 2, y, 1, 0)) continue;
      for (let x = band.from - 1; x <= band.to + 1; x++) clear(x, y);
    }
  return { width: w, height: h, data };
}
