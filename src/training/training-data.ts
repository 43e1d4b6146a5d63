/**
 * What one training run learns from: the MNIST training digits, then each rendered set the
 * config asks for (pen digits, UNIPEN digits, "not a digit"), concatenated for batching, with
 * how an epoch draws from each. Validation writers of both pen sources are never included.
 */
import { NOT_A_DIGIT } from '../core/classes.ts';
import { loadMnistCsv } from '../data/mnist-csv.ts';
import { MODEL_PIXELS } from '../core/image.ts';
import { Random } from '../core/random.ts';
import type { DigitSet } from '../data/mnist.ts';
import { loadPendigits } from '../data/pendigits.ts';
import { DigitBank, type WrittenDigit } from '../data/compose-numbers.ts';
import { loadPlaced, usableDigit, type UnipenSample, type UnipenSet } from '../data/unipen.ts';
import {
  DIGIT_LIKE,
  isUnipenValidationWriter,
  isValidationWriter,
  STROKE_AUGMENT,
  type TrainConfig,
  type WrittenDigitsConfig,
} from './config.ts';
import {
  concatSets,
  renderSet,
  type PenSample,
  type RenderedSet,
  type SetSampling,
} from './rendered-sets.ts';
import { numberPieces } from './number-pieces.ts';
import { scribbles } from './scribbles.ts';

export interface DataDirs {
  /** Folder of the pen-digit data (default ../shared/data/pendigits-train). */
  readonly pendigitsDir?: string;
  /** Folder of the UNIPEN data (default ../shared/data/unipen). */
  readonly unipenDir?: string;
  /**
   * A CSV of users' corrections (GET /api/corrections/export, the Kaggle MNIST layout): each
   * is trained on once per epoch, after the other sets.
   */
  readonly correctionsFile?: string;
}

export interface TrainingData {
  readonly examples: DigitSet;
  readonly mnistCount: number;
  /** The rendered sets after MNIST, in order. */
  readonly sets: readonly SetSampling[];
  /** Examples an epoch: MNIST and each set's draw. */
  readonly perEpoch: number;
  /** Per source, the examples an epoch draws (for the log). */
  readonly sources: Record<string, number>;
}

function withHint(err: unknown, hint: string): Error {
  return new Error(`${(err as Error).message}\n${hint}`, { cause: err });
}

function firstDigits(set: DigitSet, count: number): DigitSet {
  return {
    images: set.images.subarray(0, count * MODEL_PIXELS),
    labels: set.labels.subarray(0, count),
    count,
  };
}

/** The training writers' UNIPEN samples of some sets that `label` names, placed in the pen box. */
async function unipenSamples(
  sets: readonly UnipenSet[],
  config: NonNullable<TrainConfig['unipen']>,
  dir: string | undefined,
  label: (s: UnipenSample) => number | null,
  rng: Random,
): Promise<WrittenDigit[]> {
  const keep = (s: UnipenSample) =>
    label(s) !== null && !isUnipenValidationWriter(s.writer, config.validationModulo);
  const placed = await loadPlaced(sets, dir, keep, rng);
  return placed.map(({ sample, strokes }) => ({
    label: label(sample)!,
    writer: sample.writer,
    strokes,
  }));
}

/** A pen source's training digits, rendered as its config says. */
function renderWritten(
  digits: readonly PenSample[],
  config: WrittenDigitsConfig,
  rng: Random,
): Promise<RenderedSet> {
  return renderSet(digits, config.brushes, {
    perEpoch: digits.length * config.repeats,
    strokeVariants: { count: config.strokeVariants, config: STROKE_AUGMENT, rng },
  });
}

export async function trainingData(
  config: TrainConfig,
  mnist: DigitSet,
  dirs: DataDirs = {},
): Promise<TrainingData> {
  const mnistCount = Math.min(config.limit ?? mnist.count, mnist.count);
  // A bad corrections file is found before anything slow starts.
  const corrections = dirs.correctionsFile ? await loadMnistCsv(dirs.correctionsFile) : null;
  const rendered: RenderedSet[] = [];
  const sources: Record<string, number> = { MNIST: mnistCount };
  const rng = new Random(config.seed);
  // The training writers' digits, for numbers composed of them.
  const written: WrittenDigit[] = [];

  if (config.penDigits) {
    const pen = config.penDigits;
    const digits = await loadPendigits(dirs.pendigitsDir).catch((err: unknown) => {
      throw withHint(
        err,
        'the training mixes in pen digits: pass --pendigits DIR, or --no-pendigits to train on MNIST only',
      );
    });
    const train = digits.filter((d) => !isValidationWriter(d.writer, pen.validationWriters));
    const set = await renderWritten(train, pen, rng);
    rendered.push(set);
    sources['pen digits'] = set.perEpoch;
    written.push(...train);
  }

  const unipen = config.unipen;
  if (unipen) {
    const hint = 'the training mixes in UNIPEN: pass --unipen DIR, or --no-unipen to leave it out';
    try {
      const digits = await unipenSamples(['digits'], unipen, dirs.unipenDir, usableDigit, rng);
      const set = await renderWritten(digits, unipen, rng);
      rendered.push(set);
      sources['UNIPEN digits'] = set.perEpoch;
      written.push(...digits);
      if (unipen.notDigitsPerEpoch) {
        const notDigits: PenSample[] = await unipenSamples(
          ['upper', 'lower', 'symbols'],
          unipen,
          dirs.unipenDir,
          (s) => (DIGIT_LIKE.includes(s.label) ? null : NOT_A_DIGIT),
          rng,
        );
        notDigits.push(...scribbles(unipen.scribbles, rng));
        const set = await renderSet(notDigits, unipen.brushes, {
          perEpoch: unipen.notDigitsPerEpoch,
          oneBrushEach: rng,
        });
        rendered.push(set);
        sources['not digits'] = set.perEpoch;
      }
    } catch (err) {
      throw withHint(err, hint);
    }
  }

  if (config.numberPieces && written.length) {
    const pieces = config.numberPieces;
    const { digits, notDigits } = await numberPieces(new DigitBank(written), pieces, rng);
    rendered.push(digits, notDigits);
    sources['number pieces, digits'] = digits.perEpoch;
    sources['number pieces, not digits'] = notDigits.perEpoch;
  }

  if (corrections && corrections.count > 0) {
    // Already 28x28 as the model saw them: one rendering each, every one every epoch.
    rendered.push({
      ...corrections,
      items: corrections.count,
      variants: 1,
      perEpoch: corrections.count,
    });
    sources.corrections = corrections.count;
  }

  const examples = rendered.length
    ? concatSets([firstDigits(mnist, mnistCount), ...rendered])
    : mnist;
  const perEpoch = mnistCount + rendered.reduce((n, s) => n + s.perEpoch, 0);
  return { examples, mnistCount, sets: rendered, perEpoch, sources };
}
