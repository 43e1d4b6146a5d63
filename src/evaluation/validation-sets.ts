/**
 * The drawings of writers training never saw, as a pad shows them, for measuring the
 * "unsure" answers and calibrating them: pen digits and UNIPEN digits (which must be read),
 * UNIPEN letters and symbols (which must be flagged, except the digit-like ones, reported on
 * their own; see DIGIT_LIKE). Half of the validation writers calibrate the thresholds, the
 * other half is held out to report on.
 */
import type { GrayImage } from '../core/image.ts';
import { preprocess } from '../core/preprocess.ts';
import { Random } from '../core/random.ts';
import type { PenStroke } from '../data/pen-text.ts';
import { loadPendigits, type PenDigit } from '../data/pendigits.ts';
import { isCutDigit, loadPlaced, type UnipenSample, type UnipenSet } from '../data/unipen.ts';
import { renderStrokes } from '../node/render-strokes.ts';
import {
  DIGIT_LIKE,
  isUnipenValidationWriter,
  isValidationWriter,
  writerHash,
  type TrainConfig,
} from '../training/config.ts';
import type { PenDrawing, WriterId } from './pendigits.ts';

export type SampleKind = 'digit' | 'not_digit' | 'digit_like';

export interface ValidationDrawing {
  readonly kind: SampleKind;
  /** The digit for kind `digit`, else -1. */
  readonly label: number;
  /** What was written: the digit, letter or symbol. */
  readonly character: string;
  readonly writer: WriterId;
  readonly source: 'pendigits' | 'unipen';
  readonly strokes: readonly PenStroke[];
}

export interface ValidationSample extends Omit<ValidationDrawing, 'strokes'> {
  readonly brush: number;
  /** The 28x28 the model sees; null when the rendering has no ink. */
  readonly input: GrayImage | null;
  /** Whether the writer is in the calibration half (else held out). */
  readonly calibration: boolean;
}

export interface ValidationOptions {
  readonly pendigitsDir?: string;
  readonly unipenDir?: string;
  /** Letters and symbols to take (spread over the validation writers); default 3,000. */
  readonly notDigits?: number;
  /** Only the first N of each kind (quick looks). */
  readonly limit?: number;
}

/** The calibration half of the validation writers. */
export function isCalibrationWriter(writer: WriterId): boolean {
  return writerHash(`calibration:${writer}`) % 2 === 0;
}

/** Pen digits of the validation writers, who are never trained on. */
export async function penValidationDigits(
  config: Pick<TrainConfig, 'penDigits'>,
  dir?: string,
): Promise<PenDigit[]> {
  const writers = config.penDigits?.validationWriters ?? [];
  return (await loadPendigits(dir)).filter((d) => isValidationWriter(d.writer, writers));
}

/** UNIPEN digits of the validation writers, placed in the pen box (the same on every run). */
export async function unipenValidationDigits(
  config: Pick<TrainConfig, 'unipen'>,
  dir?: string,
): Promise<PenDrawing[]> {
  return (await unipenDrawings(['digits'], config, dir)).map((d) => ({
    label: d.label,
    writer: d.writer,
    strokes: d.strokes,
  }));
}

async function unipenDrawings(
  sets: readonly UnipenSet[],
  config: Pick<TrainConfig, 'unipen'>,
  dir?: string,
): Promise<ValidationDrawing[]> {
  const modulo = config.unipen?.validationModulo;
  const keep = (s: UnipenSample) => isUnipenValidationWriter(s.writer, modulo) && !isCutDigit(s);
  const placed = await loadPlaced(sets, dir, keep, new Random(20261127));
  return placed.map(({ sample: s, strokes }): ValidationDrawing => {
    const digit = /^[0-9]$/.test(s.label);
    return {
      kind: digit ? 'digit' : DIGIT_LIKE.includes(s.label) ? 'digit_like' : 'not_digit',
      label: digit ? Number(s.label) : -1,
      character: s.label,
      writer: s.writer,
      source: 'unipen',
      strokes,
    };
  });
}

/** Every `step`-th item, so a subset spreads over all writers and characters. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]);
}

/** The validation drawings of both sources (pen digits' validation writers from `config`). */
export async function validationDrawings(
  config: Pick<TrainConfig, 'penDigits' | 'unipen'>,
  options: ValidationOptions = {},
): Promise<ValidationDrawing[]> {
  const limit = options.limit ?? Infinity;
  const pen: ValidationDrawing[] = (await penValidationDigits(config, options.pendigitsDir)).map(
    (d) => ({
      kind: 'digit',
      label: d.label,
      character: String(d.label),
      writer: d.writer,
      source: 'pendigits',
      strokes: d.strokes,
    }),
  );
  const unipenDigits = await unipenDrawings(['digits'], config, options.unipenDir);
  const others = await unipenDrawings(['upper', 'lower', 'symbols'], config, options.unipenDir);
  const notDigits = others.filter((d) => d.kind === 'not_digit');
  const digitLike = others.filter((d) => d.kind === 'digit_like');
  const take = Math.min(options.notDigits ?? 3000, limit);
  return [
    ...pen.slice(0, limit),
    ...unipenDigits.slice(0, limit),
    ...spread(notDigits, take),
    ...spread(digitLike, Math.min(take, limit)),
  ];
}

/** Renders each drawing at each brush and preprocesses it as the page's drawings are. */
export async function renderValidation(
  drawings: readonly ValidationDrawing[],
  brushes: readonly number[],
  onProgress?: (stage: string, done: number, total: number) => void,
): Promise<ValidationSample[]> {
  const out: ValidationSample[] = [];
  for (const brush of brushes) {
    for (const [i, { strokes, ...drawing }] of drawings.entries()) {
      out.push({
        ...drawing,
        brush,
        input: preprocess(await renderStrokes(strokes, { brush }), 'dark'),
        calibration: isCalibrationWriter(drawing.writer),
      });
      if ((i + 1) % 1000 === 0 || i + 1 === drawings.length)
        onProgress?.(`validation drawings, brush ${brush} (render)`, i + 1, drawings.length);
    }
  }
  return out;
}
