/**
 * Real pen digits as extra training data. MNIST's American-style digits leave out styles
 * people draw every day: a 1 with a long flag (read as 7), a 9 with a small curled loop (read
 * as 3). Only the training writers are used; the validation writers stay unseen, so their
 * accuracy (npm run eval) measures how the model does on new people.
 */
import { MODEL_PIXELS } from '../core/image.ts';
import { preprocess } from '../core/preprocess.ts';
import type { PenDigit } from '../data/pendigits.ts';
import type { DigitSet } from '../data/mnist.ts';
import { renderStrokes } from '../node/render-strokes.ts';

export interface PenTrainingSet extends DigitSet {
  /** Digits per brush: image i of brush b is at index b * perBrush + i. */
  readonly perBrush: number;
  readonly brushes: readonly number[];
}

export function isValidationWriter(
  writer: number | null,
  validationWriters: readonly number[],
): boolean {
  return writer !== null && validationWriters.includes(writer);
}

/** Renders each training writer's digit at every brush width and preprocesses it to 28x28. */
export function penTrainingSet(
  digits: readonly PenDigit[],
  brushes: readonly number[],
  validationWriters: readonly number[],
): PenTrainingSet {
  const train = digits.filter((d) => !isValidationWriter(d.writer, validationWriters));
  const perBrush = train.length;
  const count = perBrush * brushes.length;
  const images = new Uint8Array(count * MODEL_PIXELS);
  const labels = new Uint8Array(count);
  brushes.forEach((brush, b) => {
    train.forEach((digit, i) => {
      const index = b * perBrush + i;
      const input = preprocess(renderStrokes(digit.strokes, { brush }), 'dark');
      if (input) {
        for (let p = 0; p < MODEL_PIXELS; p++)
          images[index * MODEL_PIXELS + p] = Math.round(input.data[p] * 255);
      }
      labels[index] = digit.label;
    });
  });
  return { images, labels, count, perBrush, brushes };
}

/** MNIST followed by the pen digits, as one set for batching. */
export function concatSets(a: DigitSet, b: DigitSet): DigitSet {
  const images = new Uint8Array((a.count + b.count) * MODEL_PIXELS);
  images.set(a.images.subarray(0, a.count * MODEL_PIXELS));
  images.set(b.images.subarray(0, b.count * MODEL_PIXELS), a.count * MODEL_PIXELS);
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels.subarray(0, a.count));
  labels.set(b.labels.subarray(0, b.count), a.count);
  return { images, labels, count: a.count + b.count };
}
