/**
 * Reading composed numbers (compose-numbers.ts) and scoring the readings: exact-string
 * accuracy, digit-count accuracy and per-digit accuracy, by kind and by length.
 */
import type { Ensemble } from '../core/vote.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';
import { numberPad, renderStrokes } from '../node/render-strokes.ts';
import { editDistance, type ComposedNumber, type NumberKind } from '../data/compose-numbers.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import type { DigitBox } from '../core/segment.ts';

export interface NumberTally {
  numbers: number;
  exact: number;
  countRight: number;
  digits: number;
  /** Digits read right: the number's length less the edits from the reading to the truth. */
  digitsRight: number;
  touching: number;
  /** Readings answered unsure (a digit in doubt, or not a number). */
  flagged: number;
}

export interface NumberEvaluation {
  readonly byKind: Map<NumberKind, NumberTally>;
  readonly byKindAndLength: Map<string, NumberTally>;
  /** By the name each number was given (`names`), when given. */
  readonly byName: Map<string, NumberTally>;
  /** The first few wrong readings of each kind, to look at. */
  readonly mistakes: { kind: NumberKind; text: string; read: string; writer: unknown }[];
  readonly seconds: number;
}

const emptyTally = (): NumberTally => ({
  numbers: 0,
  exact: 0,
  countRight: 0,
  digits: 0,
  digitsRight: 0,
  touching: 0,
  flagged: 0,
});

/** Renders and reads each number in-process and scores the readings. */
export async function evaluateNumbers(
  recognizer: Recognizer,
  numbers: readonly ComposedNumber[],
  options: {
    ensemble?: Ensemble;
    /** Read with the segmenter even when the recognizer has a line model. */
    segment?: boolean;
    /** A name for each number (its composition), tallied apart. */
    names?: readonly string[];
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<NumberEvaluation> {
  const start = performance.now();
  const byKind = new Map<NumberKind, NumberTally>();
  const byKindAndLength = new Map<string, NumberTally>();
  const byName = new Map<string, NumberTally>();
  const tallyOf = <K>(map: Map<K, NumberTally>, key: K) =>
    map.get(key) ?? map.set(key, emptyTally()).get(key)!;
  const mistakes: NumberEvaluation['mistakes'] = [];
  for (const [i, n] of numbers.entries()) {
    const bitmap = await renderStrokes(n.strokes, numberPad(n));
    const reading = recognizer.read(bitmap, {
      ensemble: options.ensemble ?? 'vote',
      segment: options.segment,
    });
    const read = reading.text;
    const tallies = [
      tallyOf(byKind, n.kind),
      tallyOf(byKindAndLength, `${n.kind} ${n.text.length}`),
    ];
    if (options.names) tallies.push(tallyOf(byName, options.names[i]));
    for (const tally of tallies) {
      tally.numbers++;
      tally.digits += n.text.length;
      if (read === n.text) tally.exact++;
      if (read.length === n.text.length) tally.countRight++;
      tally.digitsRight += Math.max(0, n.text.length - editDistance(read, n.text));
      if (n.touching) tally.touching++;
      if (reading.unsure) tally.flagged++;
    }
    if (read !== n.text && mistakes.filter((m) => m.kind === n.kind).length < 12)
      mistakes.push({ kind: n.kind, text: n.text, read, writer: n.writer });
    options.onProgress?.(i + 1, numbers.length);
  }
  return { byKind, byKindAndLength, byName, mistakes, seconds: (performance.now() - start) / 1000 };
}

/**
 * The ceiling of reading digit by digit: each digit of each number cut out by its own box
 * (perfect segmentation, which no reader has) and read alone by the digit model. Only for
 * numbers whose digits' boxes do not overlap (spaced ones), where a box holds one digit.
 */
export async function readWithPerfectCuts(
  recognizer: Recognizer,
  numbers: readonly ComposedNumber[],
  ensemble: Ensemble = 'vote',
): Promise<{ numbers: number; exact: number; digits: number; digitsRight: number }> {
  const tally = { numbers: 0, exact: 0, digits: 0, digitsRight: 0 };
  for (const n of numbers) {
    const bitmap = await renderStrokes(n.strokes, numberPad(n));
    let right = 0;
    n.boxes.forEach((box, k) => {
      if (recognizer.recognize(cutOut(bitmap, box), { ensemble }).digit === Number(n.text[k]))
        right++;
    });
    tally.numbers++;
    tally.digits += n.boxes.length;
    tally.digitsRight += right;
    if (right === n.boxes.length) tally.exact++;
  }
  return tally;
}

/** `box` of `bitmap` on white, with a margin of 30% of its longer side around it. */
function cutOut(bitmap: GrayBitmap, box: DigitBox): GrayBitmap {
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const w = Math.min(bitmap.width, Math.ceil(box.x + box.width)) - x0;
  const h = Math.min(bitmap.height, Math.ceil(box.y + box.height)) - y0;
  const pad = Math.round(0.3 * Math.max(w, h));
  const width = w + 2 * pad;
  const data = new Uint8ClampedArray(width * (h + 2 * pad)).fill(255);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      data[(y + pad) * width + x + pad] = Number(bitmap.data[(y0 + y) * bitmap.width + x0 + x]);
  return { width, height: h + 2 * pad, data };
}
