/**
 * The recognizer: preprocessing, test-time variants, one batched forward pass, voting.
 * Isomorphic (tfjs only): the server's workers, the CLI and the in-browser page all use it.
 */
import * as tf from '@tensorflow/tfjs';
import { DIGITS, NOT_A_DIGIT } from '../core/classes.ts';
import { InputError } from '../core/errors.ts';
import { MODEL_PIXELS, MODEL_SIZE, type GrayImage } from '../core/image.ts';
import { preprocess, type GrayBitmap, type InkPolarity } from '../core/preprocess.ts';
import {
  bestPath,
  candidateScore,
  doubtfulCandidates,
  firstCandidates,
} from '../core/reading-path.ts';
import { segmentNumber, SEGMENT, type SegmentOptions, type Segmentation } from '../core/segment.ts';
import { VARIANTS, variantBatch } from '../core/variants.ts';
import { DEFAULT_THRESHOLDS, judge, type UnsureThresholds } from '../core/unsure.ts';
import { combine, type Ensemble } from '../core/vote.ts';
import { readingOf, type DigitReading, type Reading, type Recognition } from './answers.ts';
import { splitForward, type SplitForward } from './features.ts';
import { compileForward, type Forward } from './forward.ts';

export interface RecognizeOptions {
  readonly ink?: InkPolarity;
  readonly ensemble?: Ensemble;
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
  // A candidate scores as a digit only as far as the model takes it for one: a half-cut digit
  // or two squeezed together look like no digit (npm run eval:numbers: tight numbers 35% ->
  // 47% exact on pen-digit writers, 34% -> 44% on UNIPEN writers; docs/benchmarks.md).
  const scores = (k: number) =>
    found[k].map((r, i) =>
      r
        ? candidateScore(
            segmentations[k].candidates[i],
            { digit: r.digit, probability: Math.max(...r.probabilities), notDigit: r.notDigit },
            options,
          )
        : NaN,
    );
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
  /** What the recognizer judges "unsure" by; answers adapted to corrections are judged again by it. */
  readonly thresholds: UnsureThresholds;
}

/** The model's outputs for a batch: digit probabilities renormalized over the ten digits. */
export interface Scores {
  /** count x 10, each row summing to 1. */
  readonly digits: Float32Array;
  /** count: the probability of "not a digit" (0 for a ten-class model). */
  readonly notDigit: Float32Array;
}

/** What training's calibration stores in model.json's user-defined metadata. */
export interface ModelMetadata {
  readonly unsure?: UnsureThresholds;
}

function thresholdsOf(model: tf.LayersModel): UnsureThresholds {
  const meta = model.getUserDefinedMetadata() as ModelMetadata | undefined;
  const t = meta?.unsure;
  return t && Number.isFinite(t.notDigit) && Number.isFinite(t.ambiguous)
    ? { notDigit: t.notDigit, ambiguous: t.ambiguous }
    : DEFAULT_THRESHOLDS;
}

/** Images per forward pass: far larger passes only grow the wasm heap, which never shrinks. */
const MAX_PASS_IMAGES = 512;

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class Recognizer {
  readonly info: ModelInfo;
  /** 10, or 11 for a model with a "not a digit" output. */
  readonly classes: number;
  private readonly forward: Forward;
  /** The same network in two halves, for features (features.ts); null if it cannot split. */
  private readonly split: SplitForward | null;

  constructor(model: tf.LayersModel, name = model.name, thresholds = thresholdsOf(model)) {
    this.info = { name, params: model.countParams(), thresholds };
    this.split = splitForward(model);
    this.classes = model.outputs[0].shape[1] ?? DIGITS;
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

  /** The model's outputs for `count` 28x28 inputs; no tensor outlives the call. */
  scores(pixels: Float32Array, count: number): Scores {
    return this.scoresAndFeatures(pixels, count, null);
  }

  /**
   * scores(), and when `features` is given (count x featureSize), every input's features
   * from the same pass through the split network.
   */
  private scoresAndFeatures(
    pixels: Float32Array,
    count: number,
    features: Float32Array | null,
  ): Scores {
    const split = features ? this.split : null;
    if (features && !split)
      throw new Error('this model has no penultimate layer to take features from');
    const digits = new Float32Array(count * DIGITS);
    const notDigit = new Float32Array(count);
    const classes = this.classes;
    for (let start = 0; start < count; start += MAX_PASS_IMAGES) {
      const n = Math.min(MAX_PASS_IMAGES, count - start);
      const rows = pixels.subarray(start * MODEL_PIXELS, (start + n) * MODEL_PIXELS);
      const probs = tf.tidy(() => {
        const x = tf.tensor4d(rows, [n, MODEL_SIZE, MODEL_SIZE, 1]);
        if (!split || !features) return this.forward(x).dataSync();
        const trunk = split.trunk(x);
        features.set(trunk.dataSync(), start * split.size);
        return split.head(trunk).dataSync();
      });
      if (classes === DIGITS) {
        digits.set(probs, start * DIGITS);
        continue;
      }
      for (let i = 0; i < n; i++) {
        const row = i * classes;
        notDigit[start + i] = probs[row + NOT_A_DIGIT];
        // Digits given that it is one: answers always carry ten probabilities summing to 1.
        // Summed, not 1 - p("not a digit"), which loses the digits' precision when that is near 1.
        let sum = 0;
        for (let k = 0; k < DIGITS; k++) sum += probs[row + k];
        const out = (start + i) * DIGITS;
        for (let k = 0; k < DIGITS; k++)
          digits[out + k] = sum > 0 ? probs[row + k] / sum : 1 / DIGITS;
      }
    }
    return { digits, notDigit };
  }

  /** Digit probabilities (count x 10) for `count` 28x28 inputs. */
  probabilities(pixels: Float32Array, count: number): Float32Array {
    return this.scores(pixels, count).digits;
  }

  /** Recognizes an already preprocessed 28x28 input. */
  recognizeInput(input: GrayImage, ensemble: Ensemble = 'vote'): Recognition {
    return this.recognizeInputs([input], ensemble)[0];
  }

  /** Several preprocessed inputs in one forward pass. */
  recognizeInputs(inputs: GrayImage[], ensemble: Ensemble = 'vote'): Recognition[] {
    return this.recognizeBatch(inputs, ensemble, false).recognitions;
  }

  /** What answers are judged unsure by (model.json's calibrated thresholds, or the defaults). */
  get thresholds(): UnsureThresholds {
    return this.info.thresholds;
  }

  /** Values per feature vector (see recognizeWithFeatures); 0 if the model cannot split. */
  get featureSize(): number {
    return this.split?.size ?? 0;
  }

  /**
   * As recognizeInputs, with each input's feature vector: the network's penultimate layer on
   * its plain variant, taken from the same forward pass (features.ts). What adapting to a
   * user's corrections compares (src/core/adapt.ts).
   */
  recognizeWithFeatures(
    inputs: GrayImage[],
    ensemble: Ensemble = 'vote',
  ): { recognition: Recognition; features: Float32Array }[] {
    const { recognitions, features } = this.recognizeBatch(inputs, ensemble, true);
    const size = this.featureSize;
    const perInput = ensemble === 'off' ? 1 : VARIANTS.length;
    // Row i * perInput is the input's plain variant (variants.ts: the identity comes first).
    return recognitions.map((recognition, i) => ({
      recognition,
      features: (features as Float32Array).slice(i * perInput * size, (i * perInput + 1) * size),
    }));
  }

  private recognizeBatch(
    inputs: GrayImage[],
    ensemble: Ensemble,
    withFeatures: boolean,
  ): { recognitions: Recognition[]; features: Float32Array | null } {
    if (inputs.length === 0) return { recognitions: [], features: null };
    const start = now();
    const perInput = ensemble === 'off' ? 1 : VARIANTS.length;
    const batch = new Float32Array(inputs.length * perInput * MODEL_PIXELS);
    inputs.forEach((input, i) => {
      const rows = ensemble === 'off' ? input.data : variantBatch(input);
      batch.set(rows, i * perInput * MODEL_PIXELS);
    });
    const count = inputs.length * perInput;
    const features = withFeatures ? new Float32Array(count * this.featureSize) : null;
    const { digits, notDigit } = this.scoresAndFeatures(batch, count, features);
    const ms = (now() - start) / inputs.length;
    const recognitions = inputs.map((input, i): Recognition => {
      const rows = digits.subarray(i * perInput * DIGITS, (i + 1) * perInput * DIGITS);
      const decision = combine(rows, perInput, ensemble);
      let other = 0;
      for (let v = 0; v < decision.variants; v++) other += notDigit[i * perInput + v];
      other /= decision.variants;
      return {
        ...decision,
        ...judge(decision, other, this.thresholds),
        notDigit: other,
        ensemble,
        input: Array.from(input.data),
        ms,
      };
    });
    return { recognitions, features };
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
    return readingOf(digits, now() - start);
  }
}
