/** Accuracy, per-class accuracy and the confusion matrix of a list of predictions. */

export const CLASSES = 10;

export interface ModeStats {
  /** Correct / count (0..1); an input with no ink counts as wrong. */
  readonly accuracy: number;
  readonly correct: number;
  readonly count: number;
  /** Accuracy on the digits of each true class; null for a class with no examples. */
  readonly perClass: (number | null)[];
  /** confusion[true][predicted]: counts. Inputs with no ink are left out (see `empty`). */
  readonly confusion: number[][];
  /** Inputs the pipeline found no ink in (prediction -1). */
  readonly empty: number;
}

/** `predictions[i]` is a digit or -1 (no ink); `labels[i]` the true digit. */
export function scorePredictions(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
): ModeStats {
  if (predictions.length !== labels.length) {
    throw new RangeError(`${predictions.length} predictions for ${labels.length} labels`);
  }
  const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0));
  const totals = new Array<number>(CLASSES).fill(0);
  let correct = 0;
  let empty = 0;
  for (let i = 0; i < labels.length; i++) {
    const truth = labels[i];
    const guess = predictions[i];
    totals[truth]++;
    if (guess < 0) {
      empty++;
      continue;
    }
    confusion[truth][guess]++;
    if (guess === truth) correct++;
  }
  const count = labels.length;
  return {
    accuracy: count ? correct / count : 0,
    correct,
    count,
    perClass: totals.map((n, k) => (n ? confusion[k][k] / n : null)),
    confusion,
    empty,
  };
}

/** Accuracy of the predictions grouped by `groups[i]` (writers, say). */
export function accuracyBy<G>(
  predictions: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups: ArrayLike<G>,
): Map<G, { correct: number; count: number; accuracy: number }> {
  const by = new Map<G, { correct: number; count: number; accuracy: number }>();
  for (let i = 0; i < labels.length; i++) {
    const entry = by.get(groups[i]) ?? { correct: 0, count: 0, accuracy: 0 };
    entry.count++;
    if (predictions[i] === labels[i]) entry.correct++;
    entry.accuracy = entry.correct / entry.count;
    by.set(groups[i], entry);
  }
  return by;
}
