/**
 * Segmenting a handwritten number into its digits, left to right, each prepared exactly as
 * the single-digit pipeline prepares a drawing (normalizeInk). Pure and isomorphic: the
 * server's workers, the CLI and the page all read numbers with it.
 *
 * How it works (the choices were measured with `npm run eval:numbers`; docs/benchmarks.md):
 *
 * 1. The ink's 8-connected components (inkComponents). Specks, tiny marks far from any
 *    stroke, are dropped; small marks close to a stroke (a dot of a broken stroke) and short
 *    marks lying over or under another (the bar of a 5, the top of a 7) join that stroke.
 * 2. A component wider than half the writing's height may be several touching digits: it
 *    is over-segmented at candidate cuts. A cut runs from its top to its bottom and may bend
 *    (seam carving: one column a row at most, within a tenth of the height) to cross as
 *    little ink as it can; cuts crossing more than three pen widths are dropped. As many cuts
 *    as fit 0.12 heights apart are kept.
 * 3. The pieces, in reading order, fall into blocks: separate marks side by side (not
 *    overlapping horizontally by 30% of the narrower) are never one digit.
 * 4. Within a block, every run of consecutive pieces that is not too wide is a candidate
 *    digit (a whole component always is). The reading is the path through the pieces with
 *    the lowest cost, each digit costing -ln(its confidence), 0.3, and 1 for each height of
 *    width beyond the first (bestPath), and a 1 cut from a component 0.5 more
 *    (candidateScore): whether strokes are one digit or two is decided by what the model
 *    reads, not by geometry alone.
 * 5. The model scores in two batched passes: first the candidates without cuts (all a
 *    spaced number needs: about one per digit), then, in one more pass, every cut candidate
 *    within the digits of that reading it is unsure of (below 50%) or that are wider than
 *    1.1 heights, which may be touching digits.
 *
 * Tried and measured (per-kind exact-string accuracy on composed numbers, spaced / tight):
 * digits joined whenever the gap between them was under 0.12 heights, all candidates in
 * one pass: 51% / 19% (the model reads two digits squeezed into one 28x28 as one digit,
 * confidently); joins only of marks that overlap: 89% / 23%; cuts only at columns of the
 * profile's minima holding under 1.6 pens of ink: 91% / 23%, at any minimum: 89% / 23%;
 * the width cost added: 89% / 35%; straight cuts in the two-pass reading: 90% / 35%; cuts
 * that bend: 91% / 44% (80 numbers of each kind; `npm run eval:numbers` has the full
 * figures). A higher width cost or no cost per digit read more touching numbers right
 * (49-51%) but split wide single digits of spaced ones (79-86%). Once the model had learnt
 * candidates cut from composed numbers as "not a digit" (src/training/number-pieces.ts),
 * cuts 0.12 heights apart instead of 0.2 read tight numbers 73% / 70% instead of 70% / 63%
 * (pen-digit / UNIPEN writers, 60 each), spaced ones alike; 0.1 apart, 72% / 67%.
 *
 * Then, on a tuning set (seed 12: 300 spaced and 250 tight numbers per source; the model
 * trained on pieces cut 0.12 apart; "oracle": how often the right reading is among the
 * candidates at all), tight numbers, pen-digit / UNIPEN writers:
 * - the number of cuts was capped at one per 0.24 heights, the least inky first, so cheap cuts
 *   through the hollow of a 0 or 8 crowded out the inkier one between two touching digits;
 *   without the cap: oracle 83% / 74% -> 89% / 77%, read right 75% / 65% -> 81% / 61%
 *   (candidates 56 -> 82 a number, both kinds);
 * - a candidate held at most 6 pieces, which with cuts 0.12 apart left out every digit wider
 *   than 0.72 heights; bounded by width only: oracle 93% / 83%, read right 84% / 66%
 *   (95 candidates a number; 8 pieces at most read the same, 92 candidates);
 * - the spaced numbers' digit count (wide 0s read as 10: the model is sure of the cut-off side
 *   as a 1, and doubts the wide 0 is a digit at all, "not a digit" 0.56-0.85): a 1 cut from a
 *   component costs 0.5 more, 97.7% -> 99.0% of pen-digit spaced counts right (98.7% -> 99.3%
 *   on seed 13), tight numbers unchanged within 0.4 points; a cost of 1-2 read up to 1 point
 *   more spaced counts right but 0.4-2.8 points fewer tight numbers (UNIPEN 3.6-4.4).
 * Not taken: a cost for every digit cut from a component (0.3-0.6: spaced counts 99-100%, but
 * tight numbers 1.6-2 points worse; only for components up to 1.2-1.5 heights wide: 98.7-99%
 * and 0.8-1.6 points worse), only for narrow pieces (no better); a cost per pen width of ink crossed by a
 * candidate's cuts (0.05-0.3: tight 0-1.6 points worse); never cutting a wide digit the model
 * is sure of (no change: the split 0s are the ones it doubts); more ink crossed (4-5 pens:
 * oracle unchanged), more bend (0.15 heights: oracle 1-2 points lower); cuts 0.1 heights
 * apart (oracle 94% / 83%, +1 point, for 132 candidates a number instead of 95; 0.15 apart:
 * 88% / 78%, 62 candidates); "not a digit" weighed more or less (its exponent 2 or 0.5,
 * ±1 point); the digit cost (0.1-0.5), width cost (0.5-2) and doubt threshold (0.8, or
 * scoring every cut) changed tight numbers by under 0.5 points. The training's number
 * pieces (src/training/number-pieces.ts) are cut by this very segmentation, so a model
 * trained after these changes learns from the denser cuts and the wider runs.
 *
 * Reading one digit gives what the single-digit pipeline gives: a candidate that holds every
 * piece of the drawing is prepared from the whole drawing (specks and all), as preprocess
 * does, so it is the very same 28x28.
 */
import { InputError } from './errors.ts';
import type { GrayImage } from './image.ts';
import {
  checkBitmap,
  inkComponentLabels,
  inkExtent,
  inkMap,
  normalizeInk,
  type Box,
  type Component,
  type GrayBitmap,
  type InkPolarity,
} from './preprocess.ts';

/** A digit's place in the input image, in its pixels. */
export interface DigitBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One candidate digit: a run of consecutive pieces, prepared as a 28x28. */
export interface Candidate {
  /** The first piece it holds and the one after its last (pieces in reading order). */
  readonly start: number;
  readonly end: number;
  readonly box: DigitBox;
  /** Whether it holds part of a component cut at a candidate cut (and not the rest of it). */
  readonly cut: boolean;
  /** The model's input, as normalizeInk makes it: prepared when first asked for. */
  image(): GrayImage;
}

export interface Segmentation {
  /** Pieces in reading order: every path through them is a reading. */
  readonly pieces: number;
  /** The writing's height in input pixels (see lineHeight). */
  readonly lineHeight: number;
  /** Every candidate, each to be scored by the recognizer; runs of one piece always among them. */
  readonly candidates: readonly Candidate[];
}

/** Settings of the segmentation, each in units of the writing's height (see `lineHeight`). */
export interface SegmentOptions {
  /**
   * Two separate marks may be one digit only if they overlap horizontally by at least this
   * fraction of the narrower one (a 4's bar and stem, a 5's flag and body); side by side,
   * they are two digits.
   */
  readonly joinOverlap: number;
  /** Components wider than this are tried as several touching digits. */
  readonly cutWidth: number;
  /** Candidate cuts stay at least this far from a component's ends and from each other. */
  readonly cutMargin: number;
  /** A cut is a candidate only if it crosses at most this many stroke widths of ink. */
  readonly cutInk: number;
  /**
   * How far a cut may bend to either side, in heights: 0 cuts straight down a column; more
   * lets it follow the gap between two touching or overlapping digits (seam carving).
   */
  readonly cutBend: number;
  /** A candidate digit wider than this is not considered. */
  readonly maxDigitWidth: number;
  /** Marks of at most this size (longer side) and far from every stroke are specks. */
  readonly speck: number;
  /** Marks at most this tall that lie mostly over or under a stroke join it. */
  readonly shortMark: number;
  /** The cost of each digit of a reading, beside -ln(confidence): fewer, surer digits win. */
  readonly digitCost: number;
  /**
   * The cost of a 1 cut from a component, beside its digit cost: a stroke cut off a wider digit
   * (the side of a wide 0, the flag of a 1) is what a 1 looks like, and the model reads it as
   * one with confidence, so a wide digit was read as two ("0" as "10").
   */
  readonly cutOneCost: number;
  /**
   * A digit of the reading without cuts is tried as touching digits (its cuts scored) when the
   * model is less sure of it than this, or when it is wider than `doubtWidth` heights.
   */
  readonly doubtScore: number;
  readonly doubtWidth: number;
  /**
   * The cost of a digit's width beyond the writing's height, per height: the model reads two
   * touching digits squeezed into one 28x28 as one digit with confidence, but few digits are
   * wider than they are tall.
   */
  readonly widthCost: number;
}

export const SEGMENT: SegmentOptions = {
  joinOverlap: 0.3,
  cutWidth: 0.5,
  cutMargin: 0.12,
  cutInk: 3,
  cutBend: 0.1,
  maxDigitWidth: 1.5,
  speck: 0.12,
  shortMark: 0.45,
  digitCost: 0.3,
  cutOneCost: 0.5,
  widthCost: 1,
  doubtScore: 0.5,
  doubtWidth: 1.1,
};

/**
 * Separate marks a drawing may have (specks aside): 20 digits of a few strokes each, with
 * room to spare. More is not a number (a scribble, a page of text) and would cost a
 * forward pass of thousands.
 */
export const MAX_MARKS = 80;

/**
 * A cut through a component from its top row to its bottom row: in row y, the pixels at
 * x >= xs[y - y0] lie right of it. A straight cut is a column; a seam bends around strokes.
 */
interface Seam {
  readonly y0: number;
  readonly xs: Int32Array;
}

/** The pixels of `component` between two cuts (null: its edge). */
interface Part {
  readonly component: number;
  readonly left: Seam | null;
  readonly right: Seam | null;
}

function inPart(p: Part, x: number, y: number): boolean {
  return (!p.left || x >= seamAt(p.left, y)) && (!p.right || x < seamAt(p.right, y));
}

/** The seam's column in row y (its end rows beyond the component: a faint edge's row). */
function seamAt(s: Seam, y: number): number {
  return s.xs[Math.min(s.xs.length - 1, Math.max(0, y - s.y0))];
}

/** A piece: one or more parts that are always read together. */
interface Piece {
  parts: Part[];
  box: Box;
}

function union(a: Box, b: Box): Box {
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
  };
}

function boxGap(a: Box, b: Box): number {
  const dx = Math.max(0, a.x0 - b.x1, b.x0 - a.x1);
  const dy = Math.max(0, a.y0 - b.y1, b.y0 - a.y1);
  return Math.hypot(dx, dy);
}

const widthOf = (b: Box) => b.x1 - b.x0;
const heightOf = (b: Box) => b.y1 - b.y0;
const overlapX = (a: Box, b: Box) => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));

/**
 * The height of the writing: the median height of the tall components (at least half the
 * tallest), so that bars, dots and one small digit do not shrink it and one tall digit does
 * not stretch it.
 */
export function lineHeight(components: readonly Component[]): number {
  const heights = components.map((c) => heightOf(c.box));
  const tallest = Math.max(...heights);
  const tall = heights.filter((h) => h >= tallest / 2).sort((a, b) => a - b);
  return tall[Math.floor(tall.length / 2)];
}

/**
 * Which component owns each inky pixel: its label, or for a faint anti-aliased pixel (below
 * the component threshold) the label of an inky neighbour, so that the edge of a stroke goes
 * with its stroke; -1 for paper and for haze that touches no stroke.
 */
function owners(img: GrayImage, labels: Int32Array): Int32Array {
  const { width: w, height: h, data } = img;
  const out = labels.slice();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (labels[i] >= 0 || data[i] === 0) continue;
      search: for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const l = labels[yy * w + xx];
          if (l >= 0) {
            out[i] = l;
            break search;
          }
        }
      }
    }
  }
  return out;
}

/** Inky pixels of `component` per column of its box (its vertical profile). */
function columnProfile(labels: Int32Array, width: number, c: Component, k: number): Int32Array {
  const profile = new Int32Array(widthOf(c.box));
  for (let y = c.box.y0; y < c.box.y1; y++) {
    const row = y * width;
    for (let x = c.box.x0; x < c.box.x1; x++) if (labels[row + x] === k) profile[x - c.box.x0]++;
  }
  return profile;
}

/**
 * The least inky cut from top to bottom of component `k` within `bend` columns of column
 * `centre`: in each row it moves at most one column, and it pays one for each pixel of the
 * component it crosses (a little for each column it strays, so that it runs straight
 * through blank paper). Returns the cut and the ink it crosses.
 */
function bestSeam(
  labels: Int32Array,
  width: number,
  c: Component,
  k: number,
  centre: number,
  bend: number,
): { seam: Seam; ink: number } {
  const lo = Math.max(c.box.x0 + 1, centre - bend);
  const hi = Math.min(c.box.x1 - 1, centre + bend);
  const span = hi - lo + 1;
  const rows = heightOf(c.box);
  const cost = new Float64Array(span);
  const next = new Float64Array(span);
  const from = new Int8Array(rows * span);
  const stray = (x: number) => 0.01 * Math.abs(lo + x - centre);
  for (let x = 0; x < span; x++)
    cost[x] = (labels[c.box.y0 * width + lo + x] === k ? 1 : 0) + stray(x);
  for (let r = 1; r < rows; r++) {
    const row = (c.box.y0 + r) * width;
    for (let x = 0; x < span; x++) {
      let best = cost[x];
      let step = 0;
      if (x > 0 && cost[x - 1] < best) [best, step] = [cost[x - 1], -1];
      if (x + 1 < span && cost[x + 1] < best) [best, step] = [cost[x + 1], 1];
      next[x] = best + (labels[row + lo + x] === k ? 1 : 0) + stray(x);
      from[r * span + x] = step;
    }
    cost.set(next);
  }
  let x = 0;
  for (let i = 1; i < span; i++) if (cost[i] < cost[x]) x = i;
  const xs = new Int32Array(rows);
  let ink = 0;
  for (let r = rows - 1; r >= 0; r--) {
    xs[r] = lo + x;
    if (labels[(c.box.y0 + r) * width + lo + x] === k) ink++;
    x += from[r * span + x];
  }
  return { seam: { y0: c.box.y0, xs }, ink };
}

/**
 * Candidate cuts of a wide component: from the columns where its vertical profile has a
 * local minimum, and from columns every `margin` across it, the least inky cut near each
 * (bestSeam); those that cross at most `maxInk` pixels of it, the least inky first, each at
 * least `margin` from the component's ends and from the others, left to right. As many as
 * fit: a cap on their number (one per two margins) let the cheap cuts through the hollow of
 * a 0 or 8 crowd out the inkier one between two touching digits.
 */
function cutsOf(
  labels: Int32Array,
  width: number,
  c: Component,
  k: number,
  options: { margin: number; maxInk: number; bend: number },
): Seam[] {
  const { margin, maxInk } = options;
  const profile = columnProfile(labels, width, c, k);
  const n = profile.length;
  const lo = Math.max(1, Math.ceil(margin));
  const hi = n - Math.max(1, Math.ceil(margin));
  const starts = new Set<number>();
  for (let x = lo; x < hi; x++)
    if (profile[x] <= profile[x + 1] && profile[x] < profile[x - 1]) starts.add(x);
  if (options.bend > 0)
    for (let x = lo; x < hi; x += Math.max(1, Math.round(margin / 2))) starts.add(x);
  const found = [...starts]
    .map((x) => bestSeam(labels, width, c, k, c.box.x0 + x, Math.round(options.bend)))
    .filter((s) => s.ink <= maxInk)
    .sort((a, b) => a.ink - b.ink);
  const mean = (s: Seam) => s.xs.reduce((a, b) => a + b, 0) / s.xs.length;
  const cuts: Seam[] = [];
  for (const { seam } of found) {
    const at = mean(seam);
    const clear =
      at - c.box.x0 >= margin &&
      c.box.x1 - at >= margin &&
      cuts.every((other) => Math.abs(mean(other) - at) >= margin);
    // Cuts never cross: every row keeps the same order.
    const ordered = cuts.every((other) => {
      const left = mean(other) < at;
      return other.xs.every((x, r) => (left ? x < seam.xs[r] : x > seam.xs[r]));
    });
    if (clear && ordered) cuts.push(seam);
  }
  return cuts.sort((a, b) => mean(a) - mean(b));
}

/**
 * The pen's width: the median length of the runs of ink across rows and down columns. A
 * stroke seen across is about a pen wide, seen along it is long; pooled, the median is the
 * width.
 */
export function strokeWidth(labels: Int32Array, width: number): number {
  const runs: number[] = [];
  const height = labels.length / width;
  const scan = (count: number, length: number, at: (line: number, i: number) => number) => {
    for (let line = 0; line < count; line++) {
      let run = 0;
      for (let i = 0; i <= length; i++) {
        if (i < length && labels[at(line, i)] >= 0) run++;
        else if (run) {
          runs.push(run);
          run = 0;
        }
      }
    }
  };
  scan(height, width, (y, x) => y * width + x);
  scan(width, height, (x, y) => y * width + x);
  runs.sort((a, b) => a - b);
  return runs.length ? runs[Math.floor(runs.length / 2)] : 1;
}

/** The box of a part's pixels (the component's pixels between its cuts). */
function partBox(labels: Int32Array, width: number, c: Component, part: Part): Box | null {
  let box: Box | null = null;
  for (let y = c.box.y0; y < c.box.y1; y++) {
    const row = y * width;
    let left = -1;
    let right = -1;
    for (let x = c.box.x0; x < c.box.x1; x++) {
      if (labels[row + x] !== part.component || !inPart(part, x, y)) continue;
      if (left < 0) left = x;
      right = x + 1;
    }
    if (left < 0) continue;
    const line = { x0: left, y0: y, x1: right, y1: y + 1 };
    box = box ? union(box, line) : line;
  }
  return box;
}

/**
 * Components to pieces: specks dropped, small and short marks joined to their stroke, wide
 * components cut at their candidate cuts. In reading order (by the centre of each piece).
 * Throws an InputError for more than MAX_MARKS marks.
 */
function piecesOf(
  components: readonly Component[],
  labels: Int32Array,
  width: number,
  height: number,
  options: SegmentOptions,
): Piece[] {
  const pen = strokeWidth(labels, width);
  const maxMass = Math.max(...components.map((c) => c.mass));
  const size = (c: Component) => Math.max(widthOf(c.box), heightOf(c.box));
  // Joined marks: mark index -> the component it joins.
  const host = new Map<number, number>();
  const dropped = new Set<number>();
  components.forEach((c, k) => {
    if (c.mass >= maxMass * 0.5) return;
    const small = size(c) <= options.speck * height;
    const short = heightOf(c.box) <= options.shortMark * height;
    if (!small && !short) return;
    let best = -1;
    let bestScore = Infinity;
    components.forEach((other, j) => {
      if (j === k || other.mass <= c.mass) return;
      const over = overlapX(c.box, other.box) / Math.max(1, widthOf(c.box));
      const gap = boxGap(c.box, other.box);
      const joins = (small && gap <= options.speck * height) || (short && over >= 0.5);
      if (joins && gap - over * height < bestScore) {
        best = j;
        bestScore = gap - over * height;
      }
    });
    if (best >= 0) host.set(k, best);
    else if (small) dropped.add(k);
  });
  // A mark joined to a mark joins that mark's host in the end.
  const hostOf = (k: number): number => {
    const seen = new Set<number>();
    while (host.has(k) && !seen.has(k)) {
      seen.add(k);
      k = host.get(k)!;
    }
    return k;
  };

  const marks = components.length - dropped.size - host.size;
  if (marks > MAX_MARKS) {
    throw new InputError(
      'invalid_image',
      `the drawing has ${marks} separate marks: too many to read as a number (write up to 20 digits)`,
    );
  }
  const pieces: Piece[] = [];
  const joined = new Map<number, number[]>();
  components.forEach((_, k) => {
    if (dropped.has(k) || !host.has(k)) return;
    const h = hostOf(k);
    joined.set(h, [...(joined.get(h) ?? []), k]);
  });
  components.forEach((c, k) => {
    if (dropped.has(k) || host.has(k)) return;
    const marks = joined.get(k) ?? [];
    const wide = widthOf(c.box) > options.cutWidth * height;
    const cuts = wide
      ? cutsOf(labels, width, c, k, {
          margin: options.cutMargin * height,
          maxInk: options.cutInk * pen,
          bend: options.cutBend * height,
        })
      : [];
    const edges = [null, ...cuts, null];
    const own: Piece[] = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      const part = { component: k, left: edges[i], right: edges[i + 1] };
      const box = partBox(labels, width, c, part);
      if (box) own.push({ parts: [part], box });
    }
    // Each joined mark goes with the piece of its host it overlaps most.
    for (const m of marks) {
      const mark = components[m];
      let target = own[0];
      for (const p of own)
        if (overlapX(mark.box, p.box) > overlapX(mark.box, target.box)) target = p;
      target.parts.push({ component: m, left: null, right: null });
      target.box = union(target.box, mark.box);
    }
    pieces.push(...own);
  });
  const centre = (p: Piece) => (p.box.x0 + p.box.x1) / 2;
  return pieces.sort((a, b) => centre(a) - centre(b));
}

/** The candidate's own ink: the pixels its parts own, in its box (grown by the faint edge). */
function candidateInk(
  img: GrayImage,
  owner: Int32Array,
  parts: readonly Part[],
  box: Box,
): GrayImage {
  const x0 = Math.max(0, box.x0 - 1);
  const y0 = Math.max(0, box.y0 - 1);
  const x1 = Math.min(img.width, box.x1 + 1);
  const y1 = Math.min(img.height, box.y1 + 1);
  const w = x1 - x0;
  const out = new Float32Array(w * (y1 - y0));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = y * img.width + x;
      const o = owner[i];
      if (o < 0) continue;
      for (const p of parts) {
        if (p.component === o && inPart(p, x, y)) {
          out[(y - y0) * w + (x - x0)] = img.data[i];
          break;
        }
      }
    }
  }
  return { width: w, height: y1 - y0, data: out };
}

/**
 * Splits a drawing into candidate digits (see the module comment); null when it has no ink.
 * Throws an InputError when it has far more separate marks than a number of 20 digits.
 */
export function segmentNumber(
  bitmap: GrayBitmap,
  ink: InkPolarity = 'dark',
  options: SegmentOptions = SEGMENT,
): Segmentation | null {
  checkBitmap(bitmap);
  const extent = inkExtent(bitmap, ink);
  if (!extent) return null;
  const img = inkMap(bitmap, ink, extent);
  const { components, labels } = inkComponentLabels(img);
  if (components.length === 0) return null;
  const height = lineHeight(components);
  const pieces = piecesOf(components, labels, img.width, height, options);
  const owner = owners(img, labels);
  const toInput = (b: Box): DigitBox => ({
    x: extent.x0 + b.x0,
    y: extent.y0 + b.y0,
    width: widthOf(b),
    height: heightOf(b),
  });

  // Blocks: runs of pieces that may belong to one digit, each with the one before: cut
  // from the same component, or overlapping it enough.
  const blockStart = [0];
  for (let i = 1; i < pieces.length; i++) {
    const [a, b] = [pieces[i - 1], pieces[i]];
    const sameComponent = a.parts.some((p) => b.parts.some((q) => q.component === p.component));
    const over = overlapX(a.box, b.box) / Math.max(1, Math.min(widthOf(a.box), widthOf(b.box)));
    const joinable = sameComponent || over >= options.joinOverlap;
    blockStart.push(joinable ? blockStart[i - 1] : i);
  }

  // How many pieces each component was cut into: a run that holds all of them holds the
  // whole component, which is always a candidate however wide it is (a wide 0).
  const cutInto = new Map<number, number>();
  for (const p of pieces)
    cutInto.set(p.parts[0].component, (cutInto.get(p.parts[0].component) ?? 0) + 1);
  const candidates: Candidate[] = [];
  for (let start = 0; start < pieces.length; start++) {
    let box = pieces[start].box;
    const parts: Part[] = [];
    const held = new Map<number, number>();
    for (let end = start + 1; end <= pieces.length; end++) {
      const piece = pieces[end - 1];
      if (end > start + 1 && blockStart[end - 1] !== blockStart[start]) break;
      box = union(box, piece.box);
      parts.push(...piece.parts);
      // Never wider than this, but a single piece is always a candidate.
      if (end > start + 1 && widthOf(box) > (options.maxDigitWidth + 1) * height) break;
      const main = piece.parts[0].component;
      held.set(main, (held.get(main) ?? 0) + 1);
      const wholeComponents = [...held].every(([k, n]) => cutInto.get(k) === n);
      // Runs of cut pieces are bounded in width only (a cap of 6 pieces, with cuts 0.12
      // heights apart, left digits wider than 0.72 heights out); a whole component is a
      // candidate however wide or however often it was cut (a wide 0).
      const allowed =
        end === start + 1 ||
        (wholeComponents && held.size === 1) ||
        widthOf(box) <= options.maxDigitWidth * height;
      if (!allowed) continue;
      const whole = start === 0 && end === pieces.length;
      const runParts = [...parts];
      const runBox = box;
      let image: GrayImage | undefined;
      candidates.push({
        start,
        end,
        box: toInput(box),
        cut: !wholeComponents,
        image: () =>
          // The whole drawing as one digit: exactly what the single-digit pipeline prepares.
          (image ??= (
            whole ? normalizeInk(img) : normalizeInk(candidateInk(img, owner, runParts, runBox))
          )!),
      });
    }
  }
  return { pieces: pieces.length, lineHeight: height, candidates };
}

/**
 * The best reading: the candidates (by index) that cover the pieces from first to last with
 * the lowest total cost, each costing -ln(its score) + `digitCost` + `widthCost` for each
 * height of width beyond the first; null if the scored candidates cover no path. `scores[i]`
 * is how sure the recognizer is of candidate i (its winning digit's probability), NaN for a
 * candidate not scored.
 */
export function bestPath(
  segmentation: Segmentation,
  scores: ArrayLike<number>,
  options: Pick<SegmentOptions, 'digitCost' | 'widthCost'> = SEGMENT,
): number[] | null {
  const { pieces, candidates, lineHeight: height } = segmentation;
  const cost = new Float64Array(pieces + 1).fill(Infinity);
  const via = new Int32Array(pieces + 1).fill(-1);
  cost[0] = 0;
  // Candidates are made in order of their start, so every path is relaxed in one sweep.
  candidates.forEach((c, i) => {
    if (Number.isNaN(scores[i]) || cost[c.start] === Infinity) return;
    const wide = Math.max(0, c.box.width / height - 1);
    const total =
      cost[c.start] -
      Math.log(Math.max(scores[i], 1e-9)) +
      options.digitCost +
      options.widthCost * wide;
    if (total < cost[c.end]) {
      cost[c.end] = total;
      via[c.end] = i;
    }
  });
  if (via[pieces] < 0) return null;
  const path: number[] = [];
  for (let at = pieces; at > 0; at = candidates[via[at]].start) path.push(via[at]);
  return path.reverse();
}

/**
 * How sure a reading is of a candidate, as bestPath takes it: its digit's probability times the
 * model's probability that it is a digit at all (a half-cut digit, or two touching digits
 * squeezed into one 28x28, look like no digit), less for a 1 cut from a component (see
 * `cutOneCost`).
 */
export function candidateScore(
  candidate: Candidate,
  reading: { readonly digit: number; readonly probability: number; readonly notDigit: number },
  options: Pick<SegmentOptions, 'cutOneCost'> = SEGMENT,
): number {
  const score = reading.probability * (1 - reading.notDigit);
  return candidate.cut && reading.digit === 1 ? score * Math.exp(-options.cutOneCost) : score;
}

/**
 * The candidates to score first: those without cuts, which read a number whose digits do not
 * touch; every candidate when they cannot cover the drawing (a long row of touching digits).
 */
export function firstCandidates(segmentation: Segmentation): number[] {
  const uncut = segmentation.candidates.map((c) => (c.cut ? NaN : 1));
  const all = segmentation.candidates.map((_, i) => i);
  return bestPath(segmentation, uncut) ? all.filter((i) => !segmentation.candidates[i].cut) : all;
}

/**
 * The candidates to score next, after the first: the cut candidates within the digits of the
 * first reading that may be touching digits (see `doubtScore`), so that the model decides
 * between them and their cuts. `scores` as for bestPath.
 */
export function doubtfulCandidates(
  segmentation: Segmentation,
  scores: ArrayLike<number>,
  options: SegmentOptions = SEGMENT,
): number[] {
  const { candidates, lineHeight: height } = segmentation;
  const path = bestPath(segmentation, scores, options) ?? [];
  const open = new Uint8Array(segmentation.pieces);
  for (const i of path) {
    const c = candidates[i];
    if (scores[i] < options.doubtScore || c.box.width > options.doubtWidth * height)
      open.fill(1, c.start, c.end);
  }
  return candidates.flatMap((c, i) =>
    Number.isNaN(scores[i]) && open.subarray(c.start, c.end).every((o) => o === 1) ? [i] : [],
  );
}
