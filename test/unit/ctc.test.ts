import { describe, expect, it } from 'vitest';
import {
  BLANK,
  ctcLoss,
  digitToken,
  greedyDecode,
  logSoftmax,
  softmaxRows,
} from '../../src/core/ctc.ts';
import { Random } from '../../src/core/random.ts';

/** Every path of `steps` columns over `classes` classes. */
function* paths(steps: number, classes: number): Generator<number[]> {
  const path = new Array<number>(steps).fill(0);
  for (;;) {
    yield [...path];
    let t = steps - 1;
    while (t >= 0 && ++path[t] === classes) path[t--] = 0;
    if (t < 0) return;
  }
}

/** A path's labels: runs merged, blanks dropped (CTC's many-to-one map). */
function collapse(path: number[]): number[] {
  return path.filter((k, t) => k !== BLANK && (t === 0 || path[t - 1] !== k));
}

/** -log of the sum, over every path that collapses to `labels`, of its probability. */
function bruteForceLoss(logits: number[], steps: number, classes: number, labels: number[]) {
  const logp = logSoftmax(logits, steps, classes);
  let sum = 0;
  for (const path of paths(steps, classes)) {
    const c = collapse(path);
    if (c.length === labels.length && c.every((k, i) => k === labels[i]))
      sum += Math.exp(path.reduce((s, k, t) => s + logp[t * classes + k], 0));
  }
  return -Math.log(sum);
}

function randomLogits(rng: Random, n: number): number[] {
  return Array.from({ length: n }, () => rng.normal() * 2);
}

describe('CTC loss', () => {
  const cases: { steps: number; classes: number; labels: number[] }[] = [
    { steps: 1, classes: 3, labels: [1] },
    { steps: 3, classes: 3, labels: [1, 2] },
    { steps: 4, classes: 3, labels: [1, 1] }, // a repeat needs a blank between
    { steps: 5, classes: 4, labels: [3, 1, 3] },
    { steps: 5, classes: 3, labels: [] },
    { steps: 6, classes: 3, labels: [2, 2, 1] },
  ];

  it('equals the sum over every alignment, on tiny cases', () => {
    const rng = new Random(1);
    for (const { steps, classes, labels } of cases) {
      const logits = randomLogits(rng, steps * classes);
      const { loss, feasible } = ctcLoss(logits, steps, classes, labels);
      expect(feasible).toBe(true);
      expect(loss).toBeCloseTo(bruteForceLoss(logits, steps, classes, labels), 9);
    }
  });

  it('has the gradient of the brute-force loss (central differences)', () => {
    const rng = new Random(2);
    for (const { steps, classes, labels } of cases) {
      const logits = randomLogits(rng, steps * classes);
      const { gradient } = ctcLoss(logits, steps, classes, labels);
      const h = 1e-5;
      for (let i = 0; i < logits.length; i++) {
        const up = [...logits];
        const down = [...logits];
        up[i] += h;
        down[i] -= h;
        const numeric =
          (bruteForceLoss(up, steps, classes, labels) -
            bruteForceLoss(down, steps, classes, labels)) /
          (2 * h);
        expect(gradient[i]).toBeCloseTo(numeric, 5);
      }
    }
  });

  it('gives no loss and no gradient when the labels cannot fit in the columns', () => {
    // "11" needs three columns (1, blank, 1).
    const result = ctcLoss(new Array(2 * 3).fill(0.5), 2, 3, [1, 1]);
    expect(result.feasible).toBe(false);
    expect(result.loss).toBe(0);
    expect([...result.gradient].every((g) => g === 0)).toBe(true);
  });

  it('stays finite for long sequences with confident scores', () => {
    const steps = 120;
    const classes = 13;
    const labels = Array.from({ length: 20 }, (_, i) => digitToken(i % 10));
    const logits = new Array(steps * classes).fill(-30);
    // Sharp scores for one alignment: each label on 3 columns, then 3 blanks.
    labels.forEach((k, i) => {
      for (let t = 6 * i; t < 6 * i + 3; t++) logits[t * classes + k] = 30;
      for (let t = 6 * i + 3; t < 6 * i + 6; t++) logits[t * classes + BLANK] = 30;
    });
    const { loss, gradient } = ctcLoss(logits, steps, classes, labels);
    expect(loss).toBeGreaterThan(-1e-9);
    expect(loss).toBeLessThan(1e-6);
    expect([...gradient].every(Number.isFinite)).toBe(true);
  });
});

describe('greedy decoding', () => {
  /** Scores where each column's class in `path` has probability 0.9. */
  function scoresOf(path: number[], classes = 13) {
    const logits = path.flatMap((k) =>
      Array.from({ length: classes }, (_, j) =>
        j === k ? Math.log(0.9 * (classes - 1)) : Math.log(0.1),
      ),
    );
    return softmaxRows(logits, path.length, classes);
  }

  it('merges runs, drops blanks and keeps a repeat split by a blank', () => {
    const [b, one, seven] = [BLANK, digitToken(1), digitToken(7)];
    const path = [b, one, one, b, one, seven, seven, seven, b];
    const tokens = greedyDecode(scoresOf(path), path.length, 13);
    expect(tokens.map((t) => t.token)).toEqual([one, one, seven]);
    expect(tokens.map((t) => [t.first, t.last])).toEqual([
      [1, 2],
      [4, 4],
      [5, 7],
    ]);
    for (const t of tokens) expect(t.probability).toBeCloseTo(0.9, 5);
  });

  it('reads nothing from blank columns', () => {
    expect(greedyDecode(scoresOf([BLANK, BLANK, BLANK]), 3, 13)).toEqual([]);
  });
});
