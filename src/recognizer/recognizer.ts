/**
 * The recognizer: preprocessing, test-time variants, one batched forward pass, voting.
 * Isomorphic (tfjs only): the server's workers, the CLI and the in-browser page all use it.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../core/errors.ts';
import { MODEL_PIXELS, MODEL_SIZE, type GrayImage } from '../core/image.ts';
import { preprocess, type GrayBitmap, type InkPolarity } from '../core/preprocess.ts';
import { VARIANTS, variantBatch } from '../core/variants.ts';
import { combine, type Decision, type Ensemble } from '../core/vote.ts';

export interface RecognizeOptions {
  readonly ink?: InkPolarity;
  readonly ensemble?: Ensemble;
}

export interface Recognition extends Decision {
  readonly ensemble: Ensemble;
  /** The 28x28 the model saw (the plain variant), row-major, 0..1. */
  readonly input: number[];
  readonly ms: number;
}

export interface ModelInfo {
  readonly name: string;
  readonly params: number;
}

/**
 * Images per forward pass. predict's default, 32, costs about 15% more on the server's
 * batches of 40-160 images; far larger passes only grow the wasm heap, which never shrinks.
 */
const MAX_PASS_IMAGES = 512;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Recognizer {
  readonly info: ModelInfo;

  constructor(
    private readonly model: tf.LayersModel,
    name = model.name,
  ) {
    this.info = { name, params: model.countParams() };
  }

  /** Runs the model once on every batch shape's path, so the first real call is not slower. */
  warmUp(): void {
    tf.tidy(() => {
      (
        this.model.predict(tf.zeros([VARIANTS.length, MODEL_SIZE, MODEL_SIZE, 1])) as tf.Tensor
      ).dataSync();
      (this.model.predict(tf.zeros([1, MODEL_SIZE, MODEL_SIZE, 1])) as tf.Tensor).dataSync();
    });
  }

  /** Class probabilities for `count` 28x28 inputs; no tensor outlives the call. */
  probabilities(pixels: Float32Array, count: number): Float32Array {
    return tf.tidy(() => {
      const x = tf.tensor4d(pixels, [count, MODEL_SIZE, MODEL_SIZE, 1]);
      const batchSize = Math.min(count, MAX_PASS_IMAGES);
      return (this.model.predict(x, { batchSize }) as tf.Tensor).dataSync() as Float32Array;
    });
  }

  /** Recognizes an already preprocessed 28x28 input. */
  recognizeInput(input: GrayImage, ensemble: Ensemble = 'vote'): Recognition {
    return this.recognizeInputs([input], ensemble)[0];
  }

  /** Several preprocessed inputs in one forward pass. */
  recognizeInputs(inputs: GrayImage[], ensemble: Ensemble = 'vote'): Recognition[] {
    if (inputs.length === 0) return [];
    const start = now();
    const perInput = ensemble === 'off' ? 1 : VARIANTS.length;
    const batch = new Float32Array(inputs.length * perInput * MODEL_PIXELS);
    inputs.forEach((input, i) => {
      const rows = ensemble === 'off' ? input.data : variantBatch(input);
      batch.set(rows, i * perInput * MODEL_PIXELS);
    });
    const probs = this.probabilities(batch, inputs.length * perInput);
    const ms = (now() - start) / inputs.length;
    return inputs.map((input, i) => {
      const rows = probs.subarray(i * perInput * 10, (i + 1) * perInput * 10);
      return { ...combine(rows, perInput, ensemble), ensemble, input: Array.from(input.data), ms };
    });
  }

  /** Preprocesses a grayscale bitmap (0..255) and recognizes it. */
  recognize(bitmap: GrayBitmap, options: RecognizeOptions = {}): Recognition {
    const start = now();
    const input = preprocess(bitmap, options.ink ?? 'dark');
    if (!input) throw new InputError('empty_image', 'the image has no ink: draw a digit first');
    const result = this.recognizeInput(input, options.ensemble ?? 'vote');
    return { ...result, ms: now() - start };
  }
}
