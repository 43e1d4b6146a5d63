/**
 * Connectionist temporal classification (Graves et al., 2006) for the line model: the loss
 * of a label sequence given per-column scores, with its gradient, and the decoding of the
 * scores into tokens. Pure arithmetic over typed arrays: training wraps the loss in a tfjs
 * custom gradient (src/model/ctc-loss.ts), and every reader decodes with the same code.
 *
 * Classes of a column: the blank, the ten digits, a separator (`.` `,` `-` `/`: kept out of
 * a number's text) and any other mark (a letter, a symbol, a scribble: not a number).
 */

export const BLANK = 0;
/** The class of digit d is DIGIT_CLASS + d. */
export const DIGIT_CLASS = 1;
export const SEPARATOR = 11;
export const OTHER_MARK = 12;
export const LINE_CLASSES = 13;

export type LineToken = number;

export const digitToken = (d: number): LineToken => DIGIT_CLASS + d;
export const isDigitToken = (k: LineToken): boolean => k >= DIGIT_CLASS && k < DIGIT_CLASS + 10;

/** The number `tokens` write: their digits, separators and other marks left out. */
export const digitText = (tokens: readonly LineToken[]): string =>
  tokens
    .filter(isDigitToken)
    .map((k) => k - DIGIT_CLASS)
    .join('');

function logSumExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** Row-wise log-softmax of steps x classes scores. */
export function logSoftmax(
  logits: ArrayLike<number>,
  steps: number,
  classes: number,
): Float64Array {
  const out = new Float64Array(steps * classes);
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    let max = -Infinity;
    for (let k = 0; k < classes; k++) max = Math.max(max, logits[row + k]);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[row + k] - max);
    const norm = max + Math.log(sum);
    for (let k = 0; k < classes; k++) out[row + k] = logits[row + k] - norm;
  }
  return out;
}

export interface CtcResult {
  /** -log p(labels | scores); 0 when no alignment fits in the steps (then no gradient). */
  readonly loss: number;
  /** d loss / d logits, steps x classes. */
  readonly gradient: Float32Array;
  readonly feasible: boolean;
}

/**
 * The CTC loss of `labels` (tokens, no blanks) given `logits` (steps x classes, before the
 * softmax), and its gradient with respect to the logits: softmax minus each class's share of
 * the alignments' posterior, from the forward-backward recursions in log space.
 */
export function ctcLoss(
  logits: ArrayLike<number>,
  steps: number,
  classes: number,
  labels: readonly LineToken[],
): CtcResult {
  const logp = logSoftmax(logits, steps, classes);
  const S = 2 * labels.length + 1;
  const ext = new Int32Array(S);
  for (let s = 0; s < S; s++) ext[s] = s % 2 === 0 ? BLANK : labels[(s - 1) >> 1];
  // A skip from s-2 to s is allowed over a blank between two different labels.
  const skip = (s: number) => s >= 2 && ext[s] !== BLANK && ext[s] !== ext[s - 2];

  const alpha = new Float64Array(steps * S).fill(-Infinity);
  alpha[0] = logp[BLANK];
  if (S > 1) alpha[1] = logp[ext[1]];
  for (let t = 1; t < steps; t++) {
    const prev = (t - 1) * S;
    for (let s = 0; s < S; s++) {
      let a = alpha[prev + s];
      if (s >= 1) a = logSumExp(a, alpha[prev + s - 1]);
      if (skip(s)) a = logSumExp(a, alpha[prev + s - 2]);
      alpha[t * S + s] = a === -Infinity ? a : a + logp[t * classes + ext[s]];
    }
  }
  const last = (steps - 1) * S;
  const logLikelihood = logSumExp(alpha[last + S - 1], S > 1 ? alpha[last + S - 2] : -Infinity);
  const gradient = new Float32Array(steps * classes);
  if (logLikelihood === -Infinity) return { loss: 0, gradient, feasible: false };

  // beta[t][s]: log p(the rest of the labels after t | in state s at t), without column t.
  const beta = new Float64Array(steps * S).fill(-Infinity);
  beta[last + S - 1] = 0;
  if (S > 1) beta[last + S - 2] = 0;
  for (let t = steps - 2; t >= 0; t--) {
    const next = (t + 1) * S;
    const col = (t + 1) * classes;
    for (let s = 0; s < S; s++) {
      let b = beta[next + s] + logp[col + ext[s]];
      if (s + 1 < S) b = logSumExp(b, beta[next + s + 1] + logp[col + ext[s + 1]]);
      if (s + 2 < S && skip(s + 2)) b = logSumExp(b, beta[next + s + 2] + logp[col + ext[s + 2]]);
      beta[t * S + s] = b;
    }
  }
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    for (let k = 0; k < classes; k++) gradient[row + k] = Math.exp(logp[row + k]);
    for (let s = 0; s < S; s++) {
      const occupancy = alpha[t * S + s] + beta[t * S + s] - logLikelihood;
      if (occupancy > -Infinity) gradient[row + ext[s]] -= Math.exp(occupancy);
    }
  }
  return { loss: -logLikelihood, gradient, feasible: true };
}

/** A token the line model emitted, and the columns of its run. */
export interface EmittedToken {
  readonly token: LineToken;
  /** First and last column (inclusive) of the run that emitted it. */
  readonly first: number;
  readonly last: number;
  /** The column of the run where the token is most probable. */
  readonly peak: number;
  /** Its probability there. */
  readonly probability: number;
}

/**
 * Best-path decoding: each column's most probable class, runs of one class merged, blanks
 * dropped. `probabilities` are steps x classes, after the softmax.
 */
export function greedyDecode(
  probabilities: ArrayLike<number>,
  steps: number,
  classes: number,
): EmittedToken[] {
  const tokens: EmittedToken[] = [];
  let previous = BLANK;
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    let best = 0;
    for (let k = 1; k < classes; k++)
      if (probabilities[row + k] > probabilities[row + best]) best = k;
    const p = probabilities[row + best];
    if (best !== BLANK && best === previous) {
      const run = tokens[tokens.length - 1];
      tokens[tokens.length - 1] = {
        ...run,
        last: t,
        ...(p > run.probability ? { peak: t, probability: p } : {}),
      };
    } else if (best !== BLANK) {
      tokens.push({ token: best, first: t, last: t, peak: t, probability: p });
    }
    previous = best;
  }
  return tokens;
}

/** Row-wise softmax of steps x classes scores. */
export function softmaxRows(
  logits: ArrayLike<number>,
  steps: number,
  classes: number,
): Float32Array {
  const logp = logSoftmax(logits, steps, classes);
  const out = new Float32Array(logp.length);
  for (let i = 0; i < logp.length; i++) out[i] = Math.exp(logp[i]);
  return out;
}
