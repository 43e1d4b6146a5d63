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
 *    as fit 0.12 heights apart are kept (touching-cuts.ts).
 * 3. The pieces, in reading order, fall into blocks: separate marks side by side (not
 *    overlapping horizontally by 30% of the narrower) are never one digit.
 * 4. Within a block, every run of consecutive pieces that is not too wide is a candidate
 *    digit (a whole component always is). The reading is the path through the pieces with
 *    the lowest cost, each digit costing -ln(its confidence), 0.3, and 1 for each height of
 *    width beyond the first (bestPath), and a 1 cut from a component 0.5 more
 *    (candidateScore): whether strokes are one digit or two is decided by what the model
 *    reads, not by geometry alone (reading-path.ts).
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
import { boxGap, heightOf, overlapX, union, widthOf, type Box } from './box.ts';
import {
  checkBitmap,
  inkComponentLabels,
  inkExtent,
  inkMap,
  normalizeInk,
  type Component,
  type GrayBitmap,
  type InkPolarity,
} from './preprocess.ts';
import { flattenPaper } from './paper.ts';
import { cutsOf, inPart, partBox, strokeWidth, type Part } from './touching-cuts.ts';

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
  /**
   * Never cut a mark at most this many pen widths tall (see strokeWidth): a minus, a dash,
   * an underline or a dot is no row of touching digits, and the pieces cut from it read as
   * 1s (a 160 px minus was read as forty of them, a 2048 px line as 2,047).
   */
  readonly barPens: number;
  /**
   * Nor a mark that is one straight stroke, tilted or not: its ink at most this many times a
   * pen's width along its box's diagonal (a stroke bent into a 7 has about 1.4).
   */
  readonly straightStroke: number;
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
  barPens: 3,
  straightStroke: 1.25,
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
 * Candidate digits a drawing may split into: numbers of 20 digits composed of the validation
 * writers' digits split into up to 330 (spaced) and 670 (touching). Past this the model would
 * score thousands of candidates (a long zigzag: 1,200, about 2 s of a worker) for a reading
 * of no number.
 */
export const MAX_CANDIDATES = 1000;

/** A piece: one or more parts that are always read together. */
interface Piece {
  parts: Part[];
  box: Box;
}

/**
 * The height of the writing: the median height of the tall components (at least half the
 * tallest), so that bars, dots and one small digit do not shrink it and one tall digit does
 * not stretch it.
 */
export function lineHeight(components: readonly Component[]): number {
  const heights = components.map((c) => heightOf(c.box));
  const tallest = heights.reduce((most, h) => Math.max(most, h), 0);
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
  const maxMass = components.reduce((most, c) => Math.max(most, c.mass), 0);
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
    const straight =
      c.mass <= options.straightStroke * pen * Math.hypot(widthOf(c.box), heightOf(c.box));
    const wide =
      widthOf(c.box) > options.cutWidth * height &&
      heightOf(c.box) > options.barPens * pen &&
      !straight;
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
 * Throws an InputError when it has far more separate marks, or splits into far more
 * candidates, than a number of 20 digits.
 */
export function segmentNumber(
  bitmap: GrayBitmap,
  ink: InkPolarity = 'dark',
  options: SegmentOptions = SEGMENT,
): Segmentation | null {
  checkBitmap(bitmap);
  bitmap = flattenPaper(bitmap, ink);
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
  if (candidates.length > MAX_CANDIDATES) {
    throw new InputError(
      'invalid_image',
      `the drawing splits into ${candidates.length} possible digits: too many to read as a number (write up to 20 digits)`,
    );
  }
  return { pieces: pieces.length, lineHeight: height, candidates };
}
