/**
 * Batched classification for evaluation: the recognizer's own steps (test-time variants,
 * one forward pass, `combine`), over many inputs at once, scoring every ensemble mode from
 * the same forward pass. The variants are a parameter, so alternative lists can be measured
 * without touching the recognizer.
 */
import { isIdentity, type AffineParams } from '../core/affine.ts';
import { MODEL_PIXELS, type GrayImage } from '../core/image.ts';
import { VARIANTS, variantBatch } from '../core/variants.ts';
import { combine, type Ensemble } from '../core/vote.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';

/** What evaluation needs of a recognizer: class probabilities for a batch of 28x28 inputs. */
export type ProbabilitySource = Pick<Recognizer, 'probabilities'>;

export type ProgressFn = (done: number, total: number) => void;

export interface ClassifyOptions {
  /** Test-time variants (default: the recognizer's VARIANTS); the first should be `{}`. */
  readonly variants?: readonly AffineParams[];
  /** Inputs per forward pass (default 100, so 1,000 rows with 10 variants). */
  readonly batchSize?: number;
  readonly onProgress?: ProgressFn;
}

/** The predicted digit of each input, per ensemble mode; -1 for an input with no ink (null). */
export type Predictions = Record<Ensemble, Int8Array>;

export const DEFAULT_BATCH = 100;

function argmax(values: ArrayLike<number>, offset: number, length = 10): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/**
 * Classifies preprocessed 28x28 inputs as the recognizer does, in every mode: `vote` and
 * `mean` combine the variants' probabilities, `off` takes the plain input alone. With a
 * variants list that starts with the identity (as VARIANTS does) the plain input is that
 * first row; otherwise it gets a row of its own.
 */
export function classifyInputs(
  model: ProbabilitySource,
  inputs: readonly (GrayImage | null)[],
  options: ClassifyOptions = {},
): Predictions {
  const variants = options.variants ?? VARIANTS;
  if (variants.length === 0) throw new RangeError('at least one variant is needed');
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const plainRow = isIdentity(variants[0]) ? 0 : variants.length;
  const rowsPer = variants.length + (plainRow === 0 ? 0 : 1);
  const out: Predictions = {
    vote: new Int8Array(inputs.length).fill(-1),
    mean: new Int8Array(inputs.length).fill(-1),
    off: new Int8Array(inputs.length).fill(-1),
  };
  for (let start = 0; start < inputs.length; start += batchSize) {
    const chunk: number[] = [];
    for (let i = start; i < Math.min(start + batchSize, inputs.length); i++)
      if (inputs[i]) chunk.push(i);
    if (chunk.length > 0) {
      const pixels = new Float32Array(chunk.length * rowsPer * MODEL_PIXELS);
      chunk.forEach((index, j) => {
        const input = inputs[index]!;
        const offset = j * rowsPer * MODEL_PIXELS;
        pixels.set(variantBatch(input, variants), offset);
        if (plainRow !== 0) pixels.set(input.data, offset + plainRow * MODEL_PIXELS);
      });
      const probs = model.probabilities(pixels, chunk.length * rowsPer);
      chunk.forEach((index, j) => {
        const rows = probs.subarray(j * rowsPer * 10, j * rowsPer * 10 + variants.length * 10);
        out.vote[index] = combine(rows, variants.length, 'vote').digit;
        out.mean[index] = combine(rows, variants.length, 'mean').digit;
        out.off[index] = argmax(probs, (j * rowsPer + plainRow) * 10);
      });
    }
    options.onProgress?.(Math.min(start + batchSize, inputs.length), inputs.length);
  }
  return out;
}

/** The model alone on `count` 28x28 inputs already in its format (0..1, ink = 1). */
export function classifyPixels(
  model: ProbabilitySource,
  pixels: Float32Array,
  count: number,
  options: Pick<ClassifyOptions, 'batchSize' | 'onProgress'> = {},
): Int8Array {
  if (pixels.length !== count * MODEL_PIXELS) {
    throw new RangeError(
      `${count} inputs need ${count * MODEL_PIXELS} values, got ${pixels.length}`,
    );
  }
  // Without variants, a forward pass can take ten times the inputs for the same work.
  const batchSize = Math.max(1, (options.batchSize ?? DEFAULT_BATCH) * 10);
  const out = new Int8Array(count);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const probs = model.probabilities(
      pixels.slice(start * MODEL_PIXELS, (start + n) * MODEL_PIXELS),
      n,
    );
    for (let i = 0; i < n; i++) out[start + i] = argmax(probs, i * 10);
    options.onProgress?.(start + n, count);
  }
  return out;
}
