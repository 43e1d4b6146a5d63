/** Readings made up for the page's tests: digits of a chosen confidence at a chosen place. */
import { readingOf, type DigitReading, type Reading } from '../../src/recognizer/answers.ts';

/** Digit `d` read with `confidence`, its box at `x` (100x150 px, 50 px from the top). */
export function digit(d: number, confidence: number, x: number): DigitReading {
  const probabilities = Array.from({ length: 10 }, (_, k) =>
    k === d ? confidence : (1 - confidence) / 9,
  );
  return {
    digit: d,
    confidence,
    probabilities,
    votes: probabilities.map((_, k) => (k === d ? 10 : 0)),
    variants: 10,
    ensemble: 'vote',
    input: new Array<number>(784).fill(0),
    ms: 1,
    notDigit: 0,
    // Below 60% the recognizer calls a digit ambiguous (src/core/unsure.ts).
    unsure: confidence < 0.6,
    reason: confidence < 0.6 ? 'ambiguous' : null,
    box: { x, y: 50, width: 100, height: 150 },
  };
}

/** The number made of `digits`, read in 5 ms. */
export const reading = (digits: DigitReading[]): Reading => readingOf(digits, 5);
