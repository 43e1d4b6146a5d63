/**
 * The MNIST test set, two ways: the model alone on the 28x28 digits as given, and the whole
 * pipeline (the digits handed in as pixels with ink 'light', preprocessed again, variants,
 * voting) in each ensemble mode.
 */
import { MODEL_PIXELS, MODEL_SIZE, unitOfByte, type GrayImage } from '../core/image.ts';
import { preprocess } from '../core/preprocess.ts';
import type { Ensemble } from '../core/vote.ts';
import { loadMnist, type DigitSet } from '../data/mnist.ts';
import {
  classifyInputs,
  classifyPixels,
  type ClassifyOptions,
  type Predictions,
  type ProbabilitySource,
} from './classify.ts';
import { scorePredictions, type ModeStats } from './stats.ts';

/** Inputs ready for `evaluateInputs`: preprocessed 28x28s (null: no ink) and their labels. */
export interface PreparedSet {
  readonly inputs: (GrayImage | null)[];
  readonly labels: Uint8Array;
}

export type ModeResults = Record<Ensemble, ModeStats> & { readonly predictions: Predictions };

export interface EvaluateOptions extends Omit<ClassifyOptions, 'onProgress'> {
  /** Only the first N digits. */
  readonly limit?: number;
  /** Called as each stage advances: `stage` names it ("mnist plain", "pendigits brush 16", ...). */
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export interface MnistOptions extends EvaluateOptions {
  /** The test split to use (default: loadMnist('test')). */
  readonly set?: DigitSet;
  /** Also score the model alone on the digits as given (default true). */
  readonly plain?: boolean;
}

export interface MnistEvaluation extends ModeResults {
  readonly count: number;
  /** The model alone, the 28x28 test digits straight in; null when not asked for. */
  readonly plain: ModeStats | null;
  readonly seconds: number;
}

/** Classifies prepared inputs in every mode and scores them. */
export function evaluateInputs(
  model: ProbabilitySource,
  prepared: PreparedSet,
  options: ClassifyOptions = {},
): ModeResults {
  const predictions = classifyInputs(model, prepared.inputs, options);
  return {
    vote: scorePredictions(predictions.vote, prepared.labels),
    mean: scorePredictions(predictions.mean, prepared.labels),
    off: scorePredictions(predictions.off, prepared.labels),
    predictions,
  };
}

function countOf(set: DigitSet, limit: number | undefined): number {
  return Math.min(set.count, limit ?? set.count);
}

/** The first `limit` digits of the set through the preprocessing, as ink 'light' pixels. */
export function prepareMnist(set: DigitSet, limit?: number): PreparedSet {
  const count = countOf(set, limit);
  const inputs: (GrayImage | null)[] = [];
  for (let i = 0; i < count; i++) {
    const data = set.images.subarray(i * MODEL_PIXELS, (i + 1) * MODEL_PIXELS);
    inputs.push(preprocess({ width: MODEL_SIZE, height: MODEL_SIZE, data }, 'light'));
  }
  return { inputs, labels: set.labels.slice(0, count) };
}

/** The model alone on the first `limit` digits, as given (bytes / 255). */
export function evaluatePlain(
  model: ProbabilitySource,
  set: DigitSet,
  options: Pick<ClassifyOptions, 'batchSize' | 'onProgress'> & { limit?: number } = {},
): ModeStats {
  const count = countOf(set, options.limit);
  const pixels = new Float32Array(count * MODEL_PIXELS);
  for (let i = 0; i < pixels.length; i++) pixels[i] = unitOfByte(set.images[i]);
  const predictions = classifyPixels(model, pixels, count, options);
  return scorePredictions(predictions, set.labels.subarray(0, count));
}

export async function evaluateMnist(
  model: ProbabilitySource,
  options: MnistOptions = {},
): Promise<MnistEvaluation> {
  const start = performance.now();
  const set = options.set ?? (await loadMnist('test'));
  const progress = (stage: string) => (done: number, total: number) =>
    options.onProgress?.(stage, done, total);
  const plain =
    (options.plain ?? true)
      ? evaluatePlain(model, set, { ...options, onProgress: progress('mnist plain') })
      : null;
  const prepared = prepareMnist(set, options.limit);
  const modes = evaluateInputs(model, prepared, {
    ...options,
    onProgress: progress('mnist pipeline'),
  });
  return {
    ...modes,
    count: prepared.labels.length,
    plain,
    seconds: (performance.now() - start) / 1000,
  };
}
