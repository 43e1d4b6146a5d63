/**
 * The page's side of the recognition worker (recognition-worker.ts): starts it, loads the
 * models in it, and asks it to read drawings and take features, each request a promise of its
 * answer. The page never waits on a reading: only the worker's thread does the work.
 */
import type { FeatureExtractor } from '../core/adaptation-steps.ts';
import { InputError } from '../core/errors.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import type { UnsureThresholds } from '../core/unsure.ts';
import type { Ensemble } from '../core/vote.ts';
import type { Reading } from '../recognizer/answers.ts';
import type { BackendName } from './backend-choice.ts';
import type { LoadRequest } from './in-browser.ts';
import type { FromWorker, LoadedModel, ToWorker, WorkerError } from './recognition-protocol.ts';
import type { AdaptationModel } from './recognizer-features.ts';

/** A reading, and where the worker's time went, ms. */
export interface TimedReading {
  readonly reading: Reading;
  readonly preprocessMs: number;
  readonly inferenceMs: number;
}

type Answer = Extract<FromWorker, { id: number }>;

interface Pending {
  resolve(answer: Answer): void;
  reject(err: Error): void;
}

function errorFrom(error: WorkerError): Error {
  if (error.code) return new InputError(error.code, error.message);
  const err = new Error(error.message);
  err.name = error.name;
  return err;
}

export class RecognitionWorker implements AdaptationModel {
  private readonly pending = new Map<number, Pending>();
  private next = 0;

  private constructor(
    private readonly worker: Worker,
    readonly model: LoadedModel,
  ) {
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (!('id' in message)) return;
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'failed') waiting?.reject(errorFrom(message.error));
      else waiting?.resolve(message);
    });
    worker.addEventListener('error', (event) => {
      const err = new Error(`the recognition worker failed: ${event.message}`);
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    });
  }

  /** Starts a worker and loads the models in it; rejects if they cannot be loaded. */
  static start(request: LoadRequest): Promise<RecognitionWorker> {
    const worker = new Worker(new URL('./recognition-worker.ts', import.meta.url), {
      type: 'module',
      name: 'recognition',
    });
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        worker.terminate();
        reject(err);
      };
      const onMessage = (event: MessageEvent<FromWorker>) => {
        const message = event.data;
        if (message.type === 'loaded') {
          worker.removeEventListener('message', onMessage);
          worker.removeEventListener('error', onError);
          resolve(new RecognitionWorker(worker, message.model));
        } else if (message.type === 'load-failed') {
          fail(errorFrom(message.error));
        }
      };
      const onError = (event: ErrorEvent) =>
        fail(new Error(`the recognition worker could not start: ${event.message}`));
      worker.addEventListener('message', onMessage);
      worker.addEventListener('error', onError);
      const load: ToWorker = { type: 'load', request };
      worker.postMessage(load);
    });
  }

  get backend(): BackendName {
    return this.model.backend;
  }

  get loadMs(): number {
    return this.model.loadMs;
  }

  get thresholds(): UnsureThresholds {
    return this.model.thresholds;
  }

  get featureSize(): number {
    return this.model.featureSize;
  }

  /** Reads the number in a drawing; the bitmap's pixels are handed over to the worker. */
  async read(bitmap: GrayBitmap, ensemble: Ensemble): Promise<TimedReading> {
    const id = this.next++;
    const { data } = bitmap;
    // A typed array's pixels move to the worker rather than being copied (the page's array
    // is emptied: every reading takes the pixels afresh).
    const transfer = ArrayBuffer.isView(data) ? [data.buffer as ArrayBuffer] : [];
    const answer = await this.ask({ type: 'read', id, bitmap, ensemble }, transfer);
    if (answer.type !== 'read') throw new Error(`the worker answered ${answer.type} to a read`);
    return answer;
  }

  /** The network's features of 28x28 inputs, taken in the worker. */
  readonly features: FeatureExtractor = async (inputs) => {
    const id = this.next++;
    const copies = inputs.map((input) => Float32Array.from(input));
    const answer = await this.ask(
      { type: 'features', id, inputs: copies },
      copies.map((c) => c.buffer),
    );
    if (answer.type !== 'features') throw new Error(`the worker answered ${answer.type}`);
    return answer.features;
  };

  private ask(message: ToWorker & { id: number }, transfer: Transferable[]): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }
}
