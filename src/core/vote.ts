/**
 * Combining the variants' predictions: `vote` (majority of the argmaxes, ties broken by
 * the mean probability), `mean` (argmax of the mean probabilities) or `off` (the plain
 * input alone).
 */
export type Ensemble = 'vote' | 'mean' | 'off';
export const ENSEMBLES: readonly Ensemble[] = ['vote', 'mean', 'off'];

export interface Decision {
  readonly digit: number;
  /** The winning digit's mean probability over the variants used. */
  readonly confidence: number;
  readonly probabilities: number[];
  readonly votes: number[];
  readonly variants: number;
}

function argmax(values: ArrayLike<number>, offset = 0, length = values.length - offset): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/**
 * `probabilities` holds `variants` rows of `classes` values (row 0: the plain input).
 * With `off`, only row 0 counts.
 */
export function combine(
  probabilities: ArrayLike<number>,
  variants: number,
  mode: Ensemble,
  classes = 10,
): Decision {
  if (variants < 1 || probabilities.length < variants * classes) {
    throw new RangeError(
      `expected ${variants} x ${classes} probabilities, got ${probabilities.length}`,
    );
  }
  const used = mode === 'off' ? 1 : variants;
  const mean = new Array<number>(classes).fill(0);
  const votes = new Array<number>(classes).fill(0);
  for (let v = 0; v < used; v++) {
    for (let k = 0; k < classes; k++) mean[k] += probabilities[v * classes + k] / used;
    votes[argmax(probabilities, v * classes, classes)]++;
  }
  let digit: number;
  if (mode === 'vote') {
    digit = 0;
    for (let k = 1; k < classes; k++) {
      if (votes[k] > votes[digit] || (votes[k] === votes[digit] && mean[k] > mean[digit]))
        digit = k;
    }
  } else {
    digit = argmax(mean);
  }
  return { digit, confidence: mean[digit], probabilities: mean, votes, variants: used };
}
