/**
 * The messages between the page and its recognition worker (recognition-worker.ts): what the
 * page asks, what the worker answers. Everything in them survives structured cloning (plain
 * objects, arrays, typed arrays); errors travel as their name, code and message.
 */
import type { InputErrorCode } from '../core/errors.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import type { UnsureThresholds } from '../core/unsure.ts';
import type { Ensemble } from '../core/vote.ts';
import type { Reading } from '../recognizer/answers.ts';
import type { BackendChoice, BackendName } from './backend-choice.ts';
import type { LoadPhases, LoadRequest } from './in-browser.ts';

/** The page to the worker. */
export type ToWorker =
  /** Load the models (once; a later `load` after a failure tries again). */
  | { readonly type: 'load'; readonly request: LoadRequest }
  /** Read the number in a drawing, as POST /api/read does. */
  | {
      readonly type: 'read';
      readonly id: number;
      readonly bitmap: GrayBitmap;
      readonly ensemble: Ensemble;
    }
  /** The network's feature vectors of 28x28 inputs (0..1), to adapt to corrections. */
  | { readonly type: 'features'; readonly id: number; readonly inputs: Float32Array[] };

/** The loaded model, as the page describes it and adapts with it. */
export interface LoadedModel {
  /** The tfjs backend in use. */
  readonly backend: BackendName;
  /** The wasm backend's threads (1 unless the page is cross-origin isolated); else null. */
  readonly threads: number | null;
  /** How the backend was chosen (the page remembers a measured choice). */
  readonly choice: BackendChoice;
  /** From the start of loading to warmed up, ms. */
  readonly loadMs: number;
  readonly loadPhases: LoadPhases;
  readonly thresholds: UnsureThresholds;
  readonly featureSize: number;
}

/** An error thrown in the worker, to be thrown again in the page. */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  /** An InputError's code (an empty drawing is `empty_image`). */
  readonly code?: InputErrorCode;
}

/** The worker to the page. */
export type FromWorker =
  | { readonly type: 'loaded'; readonly model: LoadedModel }
  | { readonly type: 'load-failed'; readonly error: WorkerError }
  | {
      readonly type: 'read';
      readonly id: number;
      readonly reading: Reading;
      /** The drawing made ready, then the networks, ms (in the worker). */
      readonly preprocessMs: number;
      readonly inferenceMs: number;
    }
  | { readonly type: 'features'; readonly id: number; readonly features: Float32Array[] }
  | { readonly type: 'failed'; readonly id: number; readonly error: WorkerError };
