/**
 * What the recognizer answers: a digit's recognition, and a number's reading. Types and a
 * helper only, no model: the page's main bundle uses them without loading TensorFlow.js.
 */
import type { AdaptationInfo } from '../core/adapt.ts';
import type { DigitBox } from '../core/segment.ts';
import type { Uncertainty } from '../core/unsure.ts';
import type { Decision, Ensemble } from '../core/vote.ts';

export interface Recognition extends Decision, Uncertainty {
  readonly ensemble: Ensemble;
  /** Mean probability, over the variants used, that the drawing is not a digit at all. */
  readonly notDigit: number;
  /** The 28x28 the model saw (the plain variant), row-major, 0..1. */
  readonly input: number[];
  readonly ms: number;
  /**
   * Present when the answer was adapted to a user's corrections (src/core/adapt.ts), on the
   * server or in the page: `digit`, `confidence` and `probabilities` are then the adapted
   * ones, `votes` stay the model's. The recognizer itself never sets it.
   */
  readonly adaptation?: AdaptationInfo;
}

/** One digit of a number: its recognition, and where it is in the input image. */
export interface DigitReading extends Recognition {
  readonly box: DigitBox;
}

/** A number read from a drawing: its digits in reading order (left to right). */
export interface Reading {
  /** Each digit's best guess, in order. */
  readonly text: string;
  readonly digits: DigitReading[];
  /** Whether any digit is unsure (design.md, "Unsure"). */
  readonly unsure: boolean;
  readonly ms: number;
}

/** The number made of `digits`, in reading order. */
export function readingOf(digits: DigitReading[], ms: number): Reading {
  return {
    text: digits.map((d) => d.digit).join(''),
    digits,
    unsure: digits.some((d) => d.unsure),
    ms,
  };
}
