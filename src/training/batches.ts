/** Augmented training batches, made on the fly from a seeded generator. */
import { augment, type AugmentConfig } from '../core/augment.ts';
import { MODEL_PIXELS, MODEL_SIZE, unitOfByte, type GrayImage } from '../core/image.ts';
import type { Random } from '../core/random.ts';
import type { DigitSet } from '../data/mnist.ts';

export interface Batch {
  /** count x 28 x 28 values in 0..1. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export function digitImage(set: DigitSet, index: number): GrayImage {
  const data = new Float32Array(MODEL_PIXELS);
  const offset = index * MODEL_PIXELS;
  for (let i = 0; i < MODEL_PIXELS; i++) data[i] = unitOfByte(set.images[offset + i]);
  return { width: MODEL_SIZE, height: MODEL_SIZE, data };
}

/** The digits at `indices`, augmented when `augmentation` is given. */
export function makeBatch(
  set: DigitSet,
  indices: ArrayLike<number>,
  rng: Random,
  augmentation: AugmentConfig | null,
): Batch {
  const count = indices.length;
  const images = new Float32Array(count * MODEL_PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const plain = digitImage(set, indices[i]);
    const img = augmentation ? augment(plain, rng, augmentation) : plain;
    images.set(img.data, i * MODEL_PIXELS);
    labels[i] = set.labels[indices[i]];
  }
  return { images, labels, count };
}

/** Splits a batch into `parts` nearly equal slices (one per replica). */
export function splitBatch(batch: Batch, parts: number): Batch[] {
  const out: Batch[] = [];
  const size = Math.ceil(batch.count / parts);
  for (let start = 0; start < batch.count; start += size) {
    const end = Math.min(start + size, batch.count);
    out.push({
      images: batch.images.slice(start * MODEL_PIXELS, end * MODEL_PIXELS),
      labels: batch.labels.slice(start, end),
      count: end - start,
    });
  }
  return out;
}
