/**
 * Reading scanned fields (data/scanned-fields.ts) as `POST /api/read` reads an upload, and
 * scoring the readings as the field's benchmark does: the digit string, exact.
 */
import { editDistance } from '../data/compose-numbers.ts';
import { readField, type ScannedField } from '../data/scanned-fields.ts';
import { decodeImage } from '../node/decode.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';

export interface ScannedTally {
  readonly fields: number;
  readonly exact: number;
  /** As many digits read as written. */
  readonly countRight: number;
  readonly digits: number;
  /** The digits' count less the edits from the reading to the truth. */
  readonly digitsRight: number;
  /** Answered unsure (a digit in doubt, or not a number). */
  readonly flagged: number;
  /** Right readings answered unsure. */
  readonly rightFlagged: number;
  readonly mistakes: readonly { path: string; digits: string; read: string }[];
  readonly milliseconds: number;
}

export async function readScannedFields(
  recognizer: Recognizer,
  dir: string,
  fields: readonly ScannedField[],
): Promise<ScannedTally> {
  let [exact, countRight, digits, digitsRight, flagged, rightFlagged, ms] = [0, 0, 0, 0, 0, 0, 0];
  const mistakes: { path: string; digits: string; read: string }[] = [];
  for (const field of fields) {
    const bitmap = decodeImage(await readField(dir, field));
    const start = performance.now();
    const reading = recognizer.read(bitmap);
    ms += performance.now() - start;
    const read = reading.text;
    digits += field.digits.length;
    digitsRight += Math.max(0, field.digits.length - editDistance(read, field.digits));
    if (read.length === field.digits.length) countRight++;
    if (reading.unsure) flagged++;
    if (read === field.digits) {
      exact++;
      if (reading.unsure) rightFlagged++;
    } else mistakes.push({ path: field.path, digits: field.digits, read });
  }
  return {
    fields: fields.length,
    exact,
    countRight,
    digits,
    digitsRight,
    flagged,
    rightFlagged,
    mistakes,
    milliseconds: ms,
  };
}

/** Two tallies of fields read apart as one (the held-out and the trained-on checks: all). */
export function addTallies(a: ScannedTally, b: ScannedTally): ScannedTally {
  return {
    fields: a.fields + b.fields,
    exact: a.exact + b.exact,
    countRight: a.countRight + b.countRight,
    digits: a.digits + b.digits,
    digitsRight: a.digitsRight + b.digitsRight,
    flagged: a.flagged + b.flagged,
    rightFlagged: a.rightFlagged + b.rightFlagged,
    mistakes: [...a.mistakes, ...b.mistakes],
    milliseconds: a.milliseconds + b.milliseconds,
  };
}
