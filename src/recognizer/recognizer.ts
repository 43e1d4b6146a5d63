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
import {
  combineDigit,
  decodeLine,
  lineBox,
  placeTokens,
  oneDigitSplit,
  prepareLine,
  prepareLines,
  type DigitCombination,
  wholeDrawing,
  type LineDigit,
  type PreparedLine,
} from '../core/line-reading.ts';
import { LINE_STRIDE } from '../core/line-image.ts';
import {
  pageReading,
  readingOf,
  type DigitReading,
  type Reading,
  type Recognition,
} from './answers.ts';
import { splitForward, type SplitForward } from './features.ts';
import { compileForward, type Forward } from './forward.ts';
import type { LineModel } from './line-model.ts';

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
 * A drawing made ready to be read as a number: a strip for the line model, or, without one,
 * the segmenter's candidate digits.
 */
export type PreparedNumber =
  | { readonly line: PreparedLine; readonly segmentation?: undefined; readonly page?: undefined }
  | { readonly segmentation: Segmentation; readonly line?: undefined; readonly page?: undefined }
  | {
      readonly page: readonly PreparedLine[];
      readonly line?: undefined;
      readonly segmentation?: undefined;
    };

/** How an image is read: as one number, or as a page of lines, each read as a number. */
export type Layout = 'number' | 'lines';

/** A number's reading without its time, and the time of its share of the forward passes. */
export interface PreparedReading {
  readonly reading: Omit<Reading, 'ms'>;
  readonly forwardMs: number;
}

/**
 * How a digit of a number of several is decided from the two models (line-reading.ts); a
 * number of one digit is always the digit model's, as /api/predict answers. `npm run
 * eval:numbers -- --per 6 --combine C` with the shipped models (docs/benchmarks.md): the
 * product beats the line model alone and the digit model alone on touching digits by 5-30
 * points; `apart` (the digit model alone where a digit's ink stands apart) read 1-3 more
 * spaced numbers in 60 but flagged 5-10 points more of them.
 */
export const DIGIT_COMBINATION: DigitCombination = 'product';

/**
 * A digit of a number that the line model and the digit model's plain pass both give at least
 * this probability is not read again in ten variants. On 432 numbers of 2-10 digits of both
 * sources' validation writers, spaced to overlapping (docs/benchmarks.md), thresholds from
 * 0.995 down to 0.9 changed no reading and no flag, and spared 50-69% of the digits' variants.
 */
const SURE_WITHOUT_VARIANTS = 0.98;

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

  /** Reads whole numbers at once when present; else numbers are segmented (segment.ts). */
  readonly line: LineModel | null;

  constructor(
    model: tf.LayersModel,
    name = model.name,
    thresholds = thresholdsOf(model),
    line: LineModel | null = null,
    private readonly combination: DigitCombination = DIGIT_COMBINATION,
    /** The line model of writing on paper (scans, photos), when there is one. */
    readonly paperLine: LineModel | null = null,
  ) {
    this.line = line;
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
    this.line?.warmUp();
    this.paperLine?.warmUp();
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

  /** A drawing made ready to be read as a number; null when it has no ink. */
  prepareNumber(
    bitmap: GrayBitmap,
    ink: InkPolarity = 'dark',
    useLine = true,
    layout: Layout = 'number',
  ): PreparedNumber | null {
    if (layout === 'lines') {
      if (!this.line) throw new Error('reading a page line by line needs the line model');
      const page = prepareLines(bitmap, ink);
      return page.length ? { page } : null;
    }
    if (this.line && useLine) {
      const line = prepareLine(bitmap, ink);
      return line && { line };
    }
    const segmentation = segmentNumber(bitmap, ink);
    return segmentation && { segmentation };
  }

  /**
   * Reads prepared numbers, all of them in shared forward passes: the line model's strips in
   * one, then every digit's ink through the digit model in one, as each number's single
   * digits would be (votes, confidence, the 28x28 for adaptation).
   */
  readPrepared(
    prepared: readonly PreparedNumber[],
    ensemble: Ensemble = 'vote',
  ): PreparedReading[] {
    const out: PreparedReading[] = [];
    const lines = prepared.flatMap((p, i) => (p.line ? [{ i, line: p.line }] : []));
    const segmented = prepared.flatMap((p, i) =>
      p.segmentation ? [{ i, s: p.segmentation }] : [],
    );
    if (segmented.length) {
      const readings = readSegmentations(
        segmented.map((x) => x.s),
        (inputs) => this.recognizeInputs(inputs, ensemble),
      );
      segmented.forEach(({ i }, k) => {
        const { digits, forwardMs } = readings[k];
        out[i] = { reading: readingOf(digits, 0), forwardMs };
      });
    }
    const pages = prepared.flatMap((p, i) => (p.page ? [{ i, page: p.page }] : []));
    if (lines.length || pages.length) {
      // Every line of every page in the same passes as the numbers'.
      const readings = this.readLines(
        [...lines.map((x) => x.line), ...pages.flatMap((x) => x.page)],
        ensemble,
      );
      lines.forEach(({ i }, k) => (out[i] = readings[k]));
      let next = lines.length;
      for (const { i, page } of pages) {
        const own = readings.slice(next, (next += page.length));
        const pageLines = own.map(({ reading }, k) => ({
          ...reading,
          box: lineBox(page[k]),
        }));
        out[i] = {
          reading: pageReading(pageLines, 0),
          forwardMs: own.reduce((sum, r) => sum + r.forwardMs, 0),
        };
      }
    }
    return out;
  }

  /**
   * The line model's readings of `lines`, each digit's ink then read by the digit model. A
   * mark the line model takes for no digit, in a drawing of more digits than such marks, is
   * read by the digit model too, and kept as a digit when that model is sure of one: the line
   * model now and then takes a hurried digit of a number for a letter, and one mark must not
   * turn a number into "not a number" against the digit model's word. A drawing in which it
   * reads no digit and at most one mark is one mark: it is read whole by the digit model, and
   * answered as /api/predict answers it (the best guess, "not a number" when the digit model
   * takes it for no digit), so that one digit is never read worse as a number.
   */
  private readLines(lines: readonly PreparedLine[], ensemble: Ensemble): PreparedReading[] {
    if (!this.line) throw new Error('this recognizer has no line model');
    const start = now();
    const logits = this.lineLogits(lines);
    const lineMs = (now() - start) / lines.length;
    const placed = lines.map((line, k) =>
      placeTokens(line, decodeLine(logits[k], line.strip.image.width / LINE_STRIDE)),
    );
    // One mark read as two may be one digit split in two: it is read whole as well (below).
    const split = placed.map((read, k) => oneDigitSplit(lines[k], read));
    const doubted = placed.map(({ digits, marks }, k) => {
      if (split[k] || (digits.length === 0 && marks.length <= 1))
        return [{ ...wholeDrawing(lines[k]), kind: 'other' as const, order: 0, whole: true }];
      const others = marks.filter((m) => m.kind === 'other');
      return others.length <= digits.length ? others : [];
    });
    // Each mark to read, with the line model's scores where it may spare the variants: a
    // digit of a number of several.
    const inputs: GrayImage[] = [];
    const lineScores: (readonly number[] | null)[] = [];
    placed.forEach((p, k) => {
      for (const d of [...p.digits, ...doubted[k]]) {
        if (!d.input) continue;
        inputs.push(d.input);
        lineScores.push(p.digits.length > 1 && 'probabilities' in d ? d.probabilities : null);
      }
    });
    const recognitions = this.recognizeSparingly(inputs, lineScores, ensemble);
    let next = 0;
    return placed.map(({ digits, marks }, k) => {
      let forwardMs = lineMs;
      const recognitionOf = (d: { input: GrayImage | null }) => {
        const rec = d.input ? recognitions[next++] : null;
        forwardMs += rec?.ms ?? 0;
        return rec;
      };
      let read = digits.map((d) => ({ d, rec: recognitionOf(d) }));
      let promoted = doubted[k].flatMap((m) => {
        const rec = recognitionOf(m);
        const keep = rec && ('whole' in m || !rec.unsure);
        return keep ? [{ order: m.order, reading: { ...rec, box: m.box } }] : [];
      });
      if (split[k]) {
        // The digit model sure of one digit in the whole wins; else the line model's two stand.
        // (UNIPEN singles: 98.2% -> 98.8% read, as /api/predict's 99.0%.)
        if (promoted.length && !promoted[0].reading.unsure) {
          read = [];
          marks = [];
        } else promoted = [];
      }
      const kept = marks.filter((m) => !promoted.some((p) => p.order === m.order));
      const single = read.length + promoted.length === 1 && kept.length === 0;
      const all = [
        ...read.map(({ d, rec }) => ({
          order: d.order,
          // One digit alone is read as /api/predict reads it: the digit model's answer.
          reading:
            rec && single
              ? { ...rec, box: d.box }
              : { ...this.digitOfNumber(d, rec, ensemble), box: d.box },
        })),
        ...promoted,
      ].sort((a, b) => a.order - b.order);
      const digitReadings: DigitReading[] = all.map((x) => x.reading);
      // No number: no digit, a mark that is none left after the second opinions, or one mark
      // that the digit model takes for no digit.
      const notANumber =
        all.length === 0 ||
        kept.some((m) => m.kind === 'other') ||
        (single && digitReadings[0].reason === 'not_a_digit');
      return {
        reading: readingOf(digitReadings, 0, {
          marks: kept.map(({ kind, box }) => ({ kind, box })),
          notANumber,
        }),
        forwardMs,
      };
    });
  }

  /**
   * The digit model's readings of `inputs`, its variants spent only where they can matter: a
   * digit of a number that the line model reads surely (`lineScores`) and the digit model's
   * plain pass agrees with is answered from that pass alone (`variants: 1`).
   */
  private recognizeSparingly(
    inputs: GrayImage[],
    lineScores: readonly (readonly number[] | null)[],
    ensemble: Ensemble,
  ): Recognition[] {
    if (ensemble === 'off') return this.recognizeInputs(inputs, ensemble);
    const plain = this.recognizeInputs(inputs, 'off');
    const doubtful = inputs.flatMap((_, i) => {
      const { digit, probabilities } = plain[i];
      const line = lineScores[i];
      const sure = Math.min(line?.[digit] ?? 0, probabilities[digit]) >= SURE_WITHOUT_VARIANTS;
      return sure ? [] : [i];
    });
    const voted = this.recognizeInputs(
      doubtful.map((i) => inputs[i]),
      ensemble,
    );
    doubtful.forEach((i, k) => (plain[i] = voted[k]));
    // Read as asked; `variants` says how many it took.
    return plain.map((r) => ({ ...r, ensemble }));
  }

  /**
   * The line model's scores of each line: lines written on paper that was not plain by the
   * paper's line model when there is one (trained on scanned digits and real checks too, it
   * reads the held-out checks 57.7% against 38.0%, and drawn tight numbers 8 points worse:
   * docs/benchmarks.md), the others by the drawings' own.
   */
  private lineLogits(lines: readonly PreparedLine[]): Float32Array[] {
    const strips = (part: readonly PreparedLine[]) => part.map((line) => line.strip.image);
    if (!this.paperLine) return this.line!.logits(strips(lines));
    const out: Float32Array[] = [];
    for (const onPaper of [false, true]) {
      const model = onPaper ? this.paperLine : this.line!;
      const own = lines.flatMap((line, k) => (line.onPaper === onPaper ? [{ line, k }] : []));
      if (own.length === 0) continue;
      const logits = model.logits(strips(own.map(({ line }) => line)));
      own.forEach(({ k }, i) => (out[k] = logits[i]));
    }
    return out;
  }

  /**
   * A digit of a number of several: the two models' probabilities combined (the digit
   * model's alone would often read half a touching neighbour), the digit model's votes on its
   * ink. Whether there is a digit at all the line model decides, for the whole drawing.
   */
  private digitOfNumber(d: LineDigit, rec: Recognition | null, ensemble: Ensemble): Recognition {
    const probabilities = rec
      ? combineDigit(d.probabilities, rec.probabilities, this.combination, d.apart)
      : d.probabilities;
    const digit = probabilities.indexOf(Math.max(...probabilities));
    const decision = {
      digit,
      confidence: probabilities[digit],
      probabilities,
      votes: rec?.votes ?? probabilities.map((_, j) => (j === digit ? 1 : 0)),
      variants: rec?.variants ?? 1,
    };
    return {
      ...decision,
      ...judge(decision, 0, this.thresholds),
      notDigit: rec?.notDigit ?? 0,
      ensemble: rec?.ensemble ?? ensemble,
      input: rec?.input ?? new Array<number>(MODEL_PIXELS).fill(0),
      ms: rec?.ms ?? 0,
    };
  }

  /**
   * Reads a number: with the line model, the whole drawing at once (line-reading.ts); without
   * one, or with `segment`, the drawing cut into candidate digits (segment.ts).
   */
  read(
    bitmap: GrayBitmap,
    options: RecognizeOptions & { segment?: boolean; layout?: Layout } = {},
  ): Reading {
    return this.readTimed(bitmap, options).reading;
  }

  /** read(), and where its time went: the drawing made ready, then the networks, ms. */
  readTimed(
    bitmap: GrayBitmap,
    options: RecognizeOptions & { segment?: boolean; layout?: Layout } = {},
  ): { reading: Reading; preprocessMs: number; inferenceMs: number } {
    const start = now();
    const prepared = this.prepareNumber(
      bitmap,
      options.ink ?? 'dark',
      !options.segment,
      options.layout,
    );
    if (!prepared) throw emptyImageError();
    const ready = now();
    const [{ reading }] = this.readPrepared([prepared], options.ensemble ?? 'vote');
    const end = now();
    return {
      reading: { ...reading, ms: end - start },
      preprocessMs: ready - start,
      inferenceMs: end - ready,
    };
  }
}
