/**
 * Real pen digits through the whole pipeline: rendered as a drawing pad shows them (a
 * 280x280 pad, black round strokes of a fixed brush on white, the writer's box mapped onto
 * the whole pad), preprocessed as a drawing ('dark' ink), variants, voting.
 */
import type { GrayImage } from '../core/image.ts';
import { preprocess } from '../core/preprocess.ts';
import type { PenStroke } from '../data/pen-text.ts';
import { PAD_SIZE, renderStrokes } from '../node/render-strokes.ts';
import type { ProbabilitySource } from './classify.ts';
import {
  evaluateInputs,
  type EvaluateOptions,
  type ModeResults,
  type PreparedSet,
} from './mnist.ts';
import { accuracyBy } from './stats.ts';

/** A pen writer: a pen-digits writer number, a UNIPEN `contributor/id`, or unknown. */
export type WriterId = number | string | null;

/** A digit drawn with a pen, in the 500-unit pen box, y up (pen digits, placed UNIPEN digits). */
export interface PenDrawing {
  readonly label: number;
  readonly writer: WriterId;
  readonly strokes: readonly PenStroke[];
}

export interface PendigitsOptions extends EvaluateOptions {
  /** Brush width in pad pixels (default 16). */
  readonly brush?: number;
  /** Pad side in pixels (default 280). */
  readonly size?: number;
}

export interface PreparedPendigits extends PreparedSet {
  readonly writers: WriterId[];
  readonly brush: number;
}

export interface PendigitsEvaluation extends ModeResults {
  readonly brush: number;
  readonly count: number;
  /** Accuracy of `vote` for each writer. */
  readonly perWriter: Map<WriterId, { correct: number; count: number; accuracy: number }>;
  readonly seconds: number;
}

/**
 * Renders and preprocesses the first `limit` digits at one brush width. Preparing is most
 * of the cost: keep the result to compare several variants lists on the same inputs.
 */
export async function preparePendigits(
  digits: readonly PenDrawing[],
  options: Pick<PendigitsOptions, 'brush' | 'size' | 'limit' | 'onProgress'> = {},
): Promise<PreparedPendigits> {
  const brush = options.brush ?? 16;
  const count = Math.min(digits.length, options.limit ?? digits.length);
  const inputs: (GrayImage | null)[] = [];
  const labels = new Uint8Array(count);
  const writers: WriterId[] = [];
  const stage = `pendigits brush ${brush} (render)`;
  for (let i = 0; i < count; i++) {
    const digit = digits[i];
    const bitmap = await renderStrokes(digit.strokes, { brush, size: options.size ?? PAD_SIZE });
    inputs.push(preprocess(bitmap, 'dark'));
    labels[i] = digit.label;
    writers.push(digit.writer);
    if ((i + 1) % 500 === 0 || i + 1 === count) options.onProgress?.(stage, i + 1, count);
  }
  return { inputs, labels, writers, brush };
}

/** Scores already prepared pen digits (see preparePendigits) in every ensemble mode. */
export function evaluatePrepared(
  model: ProbabilitySource,
  prepared: PreparedPendigits,
  options: EvaluateOptions = {},
): PendigitsEvaluation {
  const start = performance.now();
  const stage = `pendigits brush ${prepared.brush}`;
  const modes = evaluateInputs(model, prepared, {
    ...options,
    onProgress: (done, total) => options.onProgress?.(stage, done, total),
  });
  return {
    ...modes,
    brush: prepared.brush,
    count: prepared.labels.length,
    perWriter: accuracyBy(modes.predictions.vote, prepared.labels, prepared.writers),
    seconds: (performance.now() - start) / 1000,
  };
}

/** Renders the first `limit` digits at `brush` and scores them in every ensemble mode. */
export async function evaluatePendigits(
  model: ProbabilitySource,
  digits: readonly PenDrawing[],
  options: PendigitsOptions = {},
): Promise<PendigitsEvaluation> {
  const start = performance.now();
  const prepared = await preparePendigits(digits, options);
  const result = evaluatePrepared(model, prepared, options);
  return { ...result, seconds: (performance.now() - start) / 1000 };
}
