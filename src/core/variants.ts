/**
 * Test-time augmentation: the preprocessed digit and nine fixed, small transforms of it,
 * evaluated in one batch. They are deterministic, so the same drawing always gets the
 * same answer. Chosen by measurement (npm run bench:variants, docs/benchmarks.md): rotations,
 * scales, shears and shifts that a person's drawing varies by anyway.
 */
import { affine, type AffineParams } from './affine.ts';
import { MODEL_PIXELS, type GrayImage } from './image.ts';

export const VARIANTS: readonly AffineParams[] = [
  {},
  { rotate: -12 },
  { rotate: 12 },
  { scale: 0.85 },
  { scale: 1.15 },
  { shear: -0.2 },
  { shear: 0.2 },
  { dx: -1.5, dy: 1 },
  { dx: 1.5, dy: -1 },
  { aspect: 0.8 },
];

/** The variants of a 28x28 input, concatenated (variants x 784). */
export function variantBatch(
  input: GrayImage,
  variants: readonly AffineParams[] = VARIANTS,
): Float32Array {
  const out = new Float32Array(variants.length * MODEL_PIXELS);
  variants.forEach((v, i) => out.set(affine(input, v).data, i * MODEL_PIXELS));
  return out;
}
