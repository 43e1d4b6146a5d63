/** Messages between the inference pool (main thread) and its workers. */
import type { InputErrorCode } from '../core/errors.ts';
import type { InkPolarity } from '../core/preprocess.ts';
import type { Ensemble } from '../core/vote.ts';
import type { ModelInfo, Recognition } from '../recognizer/recognizer.ts';

/** One image to recognize, validated by the main thread; decoding happens in the worker. */
export type WorkInput =
  | { readonly kind: 'image'; readonly image: string; readonly ensemble: Ensemble }
  | {
      readonly kind: 'pixels';
      /** Grayscale 0..255, row-major, width x height of them (checked before sending). */
      readonly pixels: Float32Array;
      readonly width: number;
      readonly height: number;
      readonly ink: InkPolarity;
      readonly ensemble: Ensemble;
    };

export type WorkErrorCode = InputErrorCode | 'internal_error';

export type WorkResult =
  | { readonly ok: true; readonly recognition: Recognition }
  | { readonly ok: false; readonly code: WorkErrorCode; readonly message: string };

export interface WorkerData {
  readonly modelDir?: string;
}

export type ToWorker = {
  readonly type: 'recognize';
  readonly id: number;
  readonly inputs: WorkInput[];
};

export type FromWorker =
  | { readonly type: 'ready'; readonly model: ModelInfo; readonly tensors: number }
  | { readonly type: 'failed'; readonly message: string }
  | {
      /** The answers to every task of one forward pass: one message, not one per task. */
      readonly type: 'results';
      readonly answers: { readonly id: number; readonly results: WorkResult[] }[];
      /** Live tensors once the work is done: the /metrics gauge. */
      readonly tensors: number;
    }
  /** The recognizer hit an unexpected error and may be broken: replace this worker. */
  | { readonly type: 'fatal'; readonly message: string };
