/**
 * The recognizer: preprocessing, test-time variants, one batched forward pass, voting.
 * Isomorphic (tfjs only): the server's workers, the CLI and the in-browser page all use it.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../core/errors.ts';
import { MODEL_PIXELS, MODEL_SIZE, type GrayImage } from '../core/image.ts';
import { preprocess, type GrayBitmap, type InkPolarity } from '../core/preprocess.ts';
import {
  bestPath,
  doubtfulCandidates,
  firstCandidates,
  segmentNumber,
  SEGMENT,
  type DigitBox,
  type SegmentOptions,
  type Segmentation,
} from '../core/segment.ts';
import { VARIANTS, variantBatch } from '../core/variants.ts';
import { combine, type Decision, type Ensemble } from '../core/vote.ts';
import { compileForward, type Forward } from './forward.ts';

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

/** One digit of a number: its recognition, and where it is in the input image. */
export interface DigitReading extends Recognition {
  readonly box: DigitBox;
}

/** A number read from a drawing: its digits in reading order (left to right). */
export interface Reading {
  /** Each digit's best guess, in order. */
  readonly text: string;
  readonly digits: DigitReading[];
  readonly ms: number;
}

/** What reading a segmented number found, and its share of the forward passes. */
export interface SegmentationReading {
  readonly digits: DigitReading[];
  readonly forwardMs: number;
}

/**
 * Reads segmented numbers: scores their candidates in two batched passes (the candidates
 * without cuts, then the cuts of the digits it is unsure of; src/core/segment.ts), all the
 * numbers' images together in each, and keeps each number's best reading. `recognize` runs
 * one forward pass over 28x28 inputs.
 */
export function readSegmentations(
  segmentations: readonly Segmentation[],
  recognize: (inputs: GrayImage[]) => Recognition[],
  options: SegmentOptions = SEGMENT,
): SegmentationReading[] {
  const found = segmentations.map((s) =>
    Array.from<Recognition | undefined>({ length: s.candidates.length }),
  );
  const scores = (k: number) => found[k].map((r) => (r ? Math.max(...r.probabilities) : NaN));
  const pass = (wanted: number[][]) => {
    const images = wanted.flatMap((list, k) =>
      list.map((i) => segmentations[k].candidates[i].image()),
    );
    if (images.length === 0) return;
    const recognitions = recognize(images);
    let next = 0;
    wanted.forEach((list, k) => list.forEach((i) => (found[k][i] = recognitions[next++])));
  };
  pass(segmentations.map(firstCandidates));
  pass(segmentations.map((s, k) => doubtfulCandidates(s, scores(k), options)));
  return segmentations.map((s, k) => {
    const path = bestPath(s, scores(k), options);
    if (!path) throw new Error('segmentation: the scored candidates cover no reading');
    const digits = path.map((i) => ({ ...found[k][i]!, box: s.candidates[i].box }));
    const forwardMs = found[k].reduce((sum, r) => sum + (r?.ms ?? 0), 0);
    return { digits, forwardMs };
  });
}

export function emptyImageError(): InputError {
  return new InputError('empty_image', 'the image has no ink: draw a digit first');
}

export interface ModelInfo {
  readonly name: string;
  readonly params: number;
}

/** Images per forward pass: far larger passes only grow the wasm heap, which never shrinks. */
const MAX_PASS_IMAGES = 512;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Recognizer {
  readonly info: ModelInfo;
  private readonly forward: Forward;

  constructor(model: tf.LayersModel, name = model.name) {
    this.info = { name, params: model.countParams() };
    this.forward =
      compileForward(model) ?? ((x) => model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor);
  }

  /** Runs the model once on every batch shape's path, so the first real call is not slower. */
  warmUp(): void {
    tf.tidy(() => {
      this.forward(tf.zeros([VARIANTS.length, MODEL_SIZE, MODEL_SIZE, 1])).dataSync();
      this.forward(tf.zeros([1, MODEL_SIZE, MODEL_SIZE, 1])).dataSync();
    });
  }

  /** Class probabilities for `count` 28x28 inputs; no tensor outlives the call. */
  probabilities(pixels: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count * 10);
    for (let start = 0; start < count; start += MAX_PASS_IMAGES) {
      const n = Math.min(MAX_PASS_IMAGES, count - start);
      const rows = pixels.subarray(start * MODEL_PIXELS, (start + n) * MODEL_PIXELS);
      const probs = tf.tidy(() =>
        this.forward(tf.tensor4d(rows, [n, MODEL_SIZE, MODEL_SIZE, 1])).dataSync(),
      );
      out.set(probs, start * 10);
    }
    return out;
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
    if (!input) throw emptyImageError();
    const result = this.recognizeInput(input, options.ensemble ?? 'vote');
    return { ...result, ms: now() - start };
  }

  /**
   * Reads a number: segments the drawing into candidate digits (src/core/segment.ts),
   * recognizes every candidate in one batched forward pass and keeps the best reading.
   */
  read(bitmap: GrayBitmap, options: RecognizeOptions = {}): Reading {
    const start = now();
    const segmentation = segmentNumber(bitmap, options.ink ?? 'dark');
    if (!segmentation) throw emptyImageError();
    const ensemble = options.ensemble ?? 'vote';
    const [{ digits }] = readSegmentations([segmentation], (inputs) =>
      this.recognizeInputs(inputs, ensemble),
    );
    return { text: digits.map((d) => d.digit).join(''), digits, ms: now() - start };
  }
}
