/**
 * Cutting a component that may be several touching digits (step 2 of segment.ts): candidate
 * cuts from its top row to its bottom row that cross as little ink as they can, bending
 * around strokes (seam carving), and the parts of the component between them.
 */
import { heightOf, union, widthOf, type Box } from './box.ts';
import type { Component } from './preprocess.ts';

/**
 * A cut through a component from its top row to its bottom row: in row y, the pixels at
 * x >= xs[y - y0] lie right of it. A straight cut is a column; a seam bends around strokes.
 */
export interface Seam {
  readonly y0: number;
  readonly xs: Int32Array;
}

/** The pixels of `component` between two cuts (null: its edge). */
export interface Part {
  readonly component: number;
  readonly left: Seam | null;
  readonly right: Seam | null;
}

export function inPart(p: Part, x: number, y: number): boolean {
  return (!p.left || x >= seamAt(p.left, y)) && (!p.right || x < seamAt(p.right, y));
}

/** The seam's column in row y (its end rows beyond the component: a faint edge's row). */
function seamAt(s: Seam, y: number): number {
  return s.xs[Math.min(s.xs.length - 1, Math.max(0, y - s.y0))];
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
export function cutsOf(
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
export function partBox(labels: Int32Array, width: number, c: Component, part: Part): Box | null {
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
