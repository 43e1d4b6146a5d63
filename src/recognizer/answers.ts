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
  /**
   * A page read line by line (`layout: "lines"`): its lines, top to bottom. The reading's
   * digits and marks are all the lines', in order, and its text their texts, "\n" between.
   */
  readonly lines?: PageLine[];
}

/** One line of a page: what it reads, the box of its ink, and which of the page's digits are its. */
export interface PageLine {
  readonly text: string;
  readonly unsure: boolean;
  readonly reason: ReadingReason | null;
  readonly box: DigitBox;
  /** The line's digits are the reading's `digits[first]` to `digits[first + count - 1]`. */
  readonly first: number;
  readonly count: number;
  readonly marks: Mark[];
}

/**
 * The reading of a page from its lines' readings, top to bottom: unsure when any line is,
 * not a number when no line is one.
 */
export function pageReading(
  lines: readonly (Omit<Reading, 'ms' | 'lines'> & { box: DigitBox })[],
  ms: number,
): Reading {
  let first = 0;
  const pageLines: PageLine[] = lines.map(({ text, unsure, reason, box, digits, marks }) => {
    const line = { text, unsure, reason, box, first, count: digits.length, marks };
    first += digits.length;
    return line;
  });
  const reason = lines.every((l) => l.reason === 'not_a_number')
    ? 'not_a_number'
    : lines.some((l) => l.unsure)
      ? 'ambiguous'
      : null;
  return {
    text: lines.map((l) => l.text).join('\n'),
    digits: lines.flatMap((l) => l.digits),
    marks: lines.flatMap((l) => l.marks),
    unsure: reason !== null,
    reason,
    ms,
    lines: pageLines,
  };
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

/**
 * `reading` of a part of an image whose top-left corner is at (dx, dy) in the whole: its
 * digits', marks' and lines' boxes placed in the whole image.
 */
export function readingMoved(reading: Reading, dx: number, dy: number): Reading {
  if (dx === 0 && dy === 0) return reading;
  const moved = <T extends { box: DigitBox }>(x: T): T => ({
    ...x,
    box: { ...x.box, x: x.box.x + dx, y: x.box.y + dy },
  });
  return {
    ...reading,
    digits: reading.digits.map(moved),
    marks: reading.marks.map(moved),
    ...(reading.lines ? { lines: reading.lines.map(moved) } : {}),
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
  if (!reading.lines) return readingOf(digits, reading.ms, shapeOf(reading));
  // A page: each line is rebuilt around its own share of the digits.
  const lines = reading.lines.map((line) => ({
    ...readingOf(digits.slice(line.first, line.first + line.count), 0, {
      marks: line.marks,
      notANumber: line.reason === 'not_a_number',
    }),
    box: line.box,
  }));
  return pageReading(lines, reading.ms);
}
