import { describe, expect, it } from 'vitest';
import { combine } from '../../src/core/vote.ts';

/** Rows of 3-class probabilities. */
const rows = (...r: number[][]) => r.flat();

describe('combine', () => {
  it('vote: the majority of argmaxes wins even against a confident minority', () => {
    const p = rows(
      [0.1, 0.9, 0],
      [0.1, 0.9, 0],
      [0.98, 0.01, 0.01],
      [0.99, 0, 0.01],
      [0.4, 0.6, 0],
    );
    const d = combine(p, 5, 'vote', 3);
    expect(d.digit).toBe(1);
    expect(d.votes).toEqual([2, 3, 0]);
    expect(d.confidence).toBeCloseTo((0.9 + 0.9 + 0.01 + 0 + 0.6) / 5);
    // mean picks the other class on the same numbers
    expect(combine(p, 5, 'mean', 3).digit).toBe(0);
  });

  it('vote: a tie is broken by the mean probability', () => {
    const p = rows([0.6, 0.4, 0], [0.45, 0.55, 0], [0.1, 0.9, 0], [0.7, 0.3, 0]);
    const d = combine(p, 4, 'vote', 3);
    expect(d.votes).toEqual([2, 2, 0]);
    expect(d.digit).toBe(1); // mean: 0.4625 for 0, 0.5375 for 1
  });

  it('off: only the plain input counts', () => {
    const d = combine(rows([0.2, 0.8, 0], [1, 0, 0], [1, 0, 0]), 3, 'off', 3);
    expect(d).toEqual({
      digit: 1,
      confidence: 0.8,
      probabilities: [0.2, 0.8, 0],
      votes: [0, 1, 0],
      variants: 1,
    });
  });

  it('probabilities are the mean and sum to 1, votes to the variant count', () => {
    const d = combine(rows([0.2, 0.8, 0], [0.5, 0.25, 0.25]), 2, 'mean', 3);
    expect(d.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1);
    expect(d.votes.reduce((a, b) => a + b)).toBe(2);
  });

  it('rejects too few probabilities', () => {
    expect(() => combine([0.5, 0.5], 2, 'vote', 2)).toThrow(RangeError);
  });
});
