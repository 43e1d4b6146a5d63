/**
 * Candidate digits of written numbers, as training data. Reading a number scores every
 * candidate the segmentation makes (src/core/segment.ts) with the model, and a wrong candidate
 * (two touching digits squeezed into one 28x28, a digit with a chunk of its neighbour, half a
 * digit) used to be read as a digit with confidence, so tight numbers were read as fewer
 * digits than written. Here numbers are composed from training writers' digits, segmented
 * exactly as at reading time, and each candidate is labelled from where the true digits are:
 * a candidate holding one digit and nothing much else is that digit, one holding parts of two
 * or only part of one is "not a digit". Candidates in between are left out.
 */
import { NOT_A_DIGIT } from '../core/classes.ts';
import { MODEL_PIXELS } from '../core/image.ts';
import type { Random } from '../core/random.ts';
import { segmentNumber, type DigitBox } from '../core/segment.ts';
import { composeNumber, type DigitBank, type NumberKind } from '../data/compose-numbers.ts';
import { numberPad, renderStrokes } from '../node/render-strokes.ts';
import type { NumberPiecesConfig } from './config.ts';
import type { RenderedSet } from './rendered-sets.ts';

/** How much of a true digit's width a candidate spans, by the x-ranges of their boxes. */
function coverage(candidate: DigitBox, digit: DigitBox): number {
  const overlap =
    Math.min(candidate.x + candidate.width, digit.x + digit.width) - Math.max(candidate.x, digit.x);
  return Math.max(0, overlap) / Math.max(1, digit.width);
}

/** A candidate spanning this much of a digit holds that digit. */
const HOLDS = 0.85;
/** ...and holds it alone when it spans less than this of every other digit (tight digits' boxes overlap). */
const ALONE = 0.2;
/** A candidate spanning this much of a second digit holds a chunk of it too. */
const CHUNK = 0.4;
/** A fragment spans this much of one digit (and at most ALONE of the others). */
const FRAGMENT: [number, number] = [0.3, 0.6];
/**
 * Fragments narrower than this (width / height) are left out: a stroke cut from a 0 or a 4
 * looks like a 1, and must not teach that ones are not digits.
 */
const NARROW = 0.5;

/**
 * The label a candidate is trained with: the digit it holds alone, NOT_A_DIGIT when it holds
 * one digit and a chunk of another, or only a (not narrow) fragment of one; null when it is
 * neither clearly (left out).
 */
export function candidateLabel(
  candidate: DigitBox,
  digits: readonly DigitBox[],
  text: string,
): number | null {
  const covered = digits.map((d) => coverage(candidate, d));
  const count = (low: number, high = Infinity) =>
    covered.filter((c) => c >= low && c < high).length;
  const held = covered.findIndex((c) => c >= HOLDS);
  if (held >= 0 && count(ALONE) === 1) return Number(text[held]);
  if (held >= 0 && count(CHUNK) >= 2) return NOT_A_DIGIT;
  const fragment = count(FRAGMENT[0], FRAGMENT[1]) === 1 && count(ALONE) === 1;
  if (fragment && candidate.width >= NARROW * candidate.height) return NOT_A_DIGIT;
  return null;
}

export interface NumberPieces {
  /** Candidates holding one digit (labelled with it). */
  readonly digits: RenderedSet;
  /** Candidates holding parts of two digits or part of one (NOT_A_DIGIT). */
  readonly notDigits: RenderedSet;
}

function toSet(images: Uint8Array[], labels: number[], perEpoch: number): RenderedSet {
  const count = labels.length;
  const all = new Uint8Array(count * MODEL_PIXELS);
  images.forEach((img, i) => all.set(img, i * MODEL_PIXELS));
  return {
    images: all,
    labels: Uint8Array.from(labels),
    count,
    items: count,
    variants: 1,
    perEpoch: Math.min(perEpoch, count),
  };
}

/**
 * Composes numbers from `bank`'s writers, segments each as reading does and keeps every
 * labelled candidate's 28x28.
 */
export async function numberPieces(
  bank: DigitBank,
  options: NumberPiecesConfig,
  rng: Random,
): Promise<NumberPieces> {
  const digit = { images: [] as Uint8Array[], labels: [] as number[] };
  const notDigit = { images: [] as Uint8Array[], labels: [] as number[] };
  for (let n = 0; n < options.numbers; n++) {
    const kind: NumberKind = rng.next() < options.tight ? 'tight' : 'spaced';
    const length = 2 + rng.int(options.maxLength - 1);
    const number = composeNumber(bank, rng, { kind, length });
    const bitmap = await renderStrokes(number.strokes, numberPad(number));
    const segmentation = segmentNumber(bitmap, 'dark');
    if (!segmentation) continue;
    for (const candidate of segmentation.candidates) {
      const label = candidateLabel(candidate.box, number.boxes, number.text);
      if (label === null) continue;
      const input = candidate.image();
      const to = label === NOT_A_DIGIT ? notDigit : digit;
      to.images.push(Uint8Array.from(input.data, (v) => Math.round(v * 255)));
      to.labels.push(label);
    }
  }
  return {
    digits: toSet(digit.images, digit.labels, options.digitsPerEpoch),
    notDigits: toSet(notDigit.images, notDigit.labels, options.notDigitsPerEpoch),
  };
}
