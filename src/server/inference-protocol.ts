/** Messages between the inference pool (main thread) and its workers. */
import type { InputErrorCode } from '../core/errors.ts';
import type { InkPolarity } from '../core/preprocess.ts';
import type { Ensemble } from '../core/vote.ts';
import type { Layout, ModelInfo } from '../recognizer/recognizer.ts';
import type { Reading, Recognition } from '../recognizer/answers.ts';

/**
 * One image to recognize, validated by the main thread; decoding happens in the worker.
 * With `features`, the answer carries the input's feature vector too (adaptation).
 */
export type WorkInput = (
  | { readonly kind: 'image'; readonly image: string; readonly ensemble: Ensemble }
  | {
      readonly kind: 'pixels';
      /** Grayscale 0..255, row-major, width x height of them (checked before sending). */
      readonly pixels: Float32Array;
      readonly width: number;
      readonly height: number;
      readonly ink: InkPolarity;
      readonly ensemble: Ensemble;
    }
  | {
      /** An already prepared 28x28 (a stored correction): no preprocessing. */
      readonly kind: 'input';
      readonly input: Float32Array;
      readonly ensemble: Ensemble;
    }
) & {
  readonly features?: boolean;
  /** How a number's image is read (POST /api/read): one number, or a page of lines. */
  readonly layout?: Layout;
};

export type WorkFailureCode = InputErrorCode | 'internal_error';

/** A worker's result for an input it could not answer: the input's fault, or its own. */
export type WorkFailure = {
  readonly ok: false;
  readonly code: WorkFailureCode;
  readonly message: string;
};

export type WorkResult =
  | {
      readonly ok: true;
      readonly recognition: Recognition;
      /** The network's features of the plain input, when the work asked for them. */
      readonly features?: Float32Array;
    }
  | WorkFailure;

/** The answer to reading a number (POST /api/read). */
export type ReadResult = { readonly ok: true; readonly reading: Reading } | WorkFailure;

/** What a task asks of the worker: one digit per input, or a whole number per input. */
export type WorkOperation = 'recognize' | 'read';

export interface WorkResults {
  readonly recognize: WorkResult;
  readonly read: ReadResult;
}

export interface WorkerData {
  readonly modelDir?: string;
}

export type ToWorker = {
  readonly type: 'recognize';
  readonly id: number;
  readonly inputs: WorkInput[];
  /** Absent: `recognize`. */
  readonly operation?: WorkOperation;
};

export type FromWorker =
  | { readonly type: 'ready'; readonly model: ModelInfo; readonly tensors: number }
  | { readonly type: 'failed'; readonly message: string }
  | {
      /** The answers to every task of one forward pass: one message, not one per task. */
      readonly type: 'results';
      readonly answers: { readonly id: number; readonly results: (WorkResult | ReadResult)[] }[];
      /** Milliseconds the pass took, all of it: the pool's measure of its own speed. */
      readonly ms: number;
      /** Live tensors once the work is done: the /metrics gauge. */
      readonly tensors: number;
    }
  /** The recognizer hit an unexpected error and may be broken: replace this worker. */
  | { readonly type: 'fatal'; readonly message: string };
