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

/** Why a number's reading is unsure: the drawing is no number, or a digit is in doubt. */
export type ReadingReason = 'not_a_number' | 'ambiguous';

/** A mark of a number that is no digit: a separator (`.` `,` `-` `/`), or anything else. */
export interface Mark {
  readonly kind: 'separator' | 'other';
  readonly box: DigitBox;
}

/** A number read from a drawing: its digits in reading order (left to right). */
export interface Reading {
  /** Each digit's best guess, in order (separators never in it). */
  readonly text: string;
  readonly digits: DigitReading[];
  /** Marks read beside the digits, in reading order. */
  readonly marks: Mark[];
  /** Whether the drawing is not a number, or any digit is unsure (design.md, "Unsure"). */
  readonly unsure: boolean;
  readonly reason: ReadingReason | null;
  readonly ms: number;
}

export interface ReadingShape {
  readonly marks?: Mark[];
  /** The drawing as a whole is no number (a word, a letter, a scribble). */
  readonly notANumber?: boolean;
}

/** The number made of `digits`, in reading order. */
export function readingOf(digits: DigitReading[], ms: number, shape: ReadingShape = {}): Reading {
  const notANumber =
    shape.notANumber ?? (digits.length === 0 || digits.some((d) => d.reason === 'not_a_digit'));
  const reason = notANumber ? 'not_a_number' : digits.some((d) => d.unsure) ? 'ambiguous' : null;
  return {
    text: digits.map((d) => d.digit).join(''),
    digits,
    marks: shape.marks ?? [],
    unsure: reason !== null,
    reason,
    ms,
  };
}

/** What readingOf needs to rebuild `reading` around new digits (after adapting them). */
export function shapeOf(reading: Reading): ReadingShape {
  return { marks: reading.marks, notANumber: reading.reason === 'not_a_number' };
}

/**
 * `reading` around other digits (its own, adapted to a user's corrections): the text and
 * whether it is unsure follow them; the marks, and a verdict that it is no number, stay.
 */
export function withDigits(reading: Reading, digits: DigitReading[]): Reading {
  return readingOf(digits, reading.ms, shapeOf(reading));
}
