/**
 * Choosing the reading of a segmented number (steps 4 and 5 of segment.ts): which candidates
 * the model scores, and in what passes, and the path of candidates through the pieces that
 * costs least.
 */
import { SEGMENT, type Candidate, type Segmentation, type SegmentOptions } from './segment.ts';

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
