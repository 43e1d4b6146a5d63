/**
 * The recognition worker: the models, TensorFlow.js's backend and the reader's core run here,
 * off the page's main thread, so the pad draws at full rate while a drawing is read. It answers
 * the page's messages (recognition-protocol.ts) with the modules the page used before
 * (in-browser.ts, recognizer-features.ts); recognition-client.ts is the page's side.
 */
/// <reference lib="webworker" />
import { InputError } from '../core/errors.ts';
import { loadLocalModel, readLocallyTimed, warmUpFurther, type LocalModel } from './in-browser.ts';
import type { FromWorker, ToWorker, WorkerError } from './recognition-protocol.ts';
import { featuresOf } from './recognizer-features.ts';

declare const self: DedicatedWorkerGlobalScope;

let model: Promise<LocalModel> | null = null;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function asWorkerError(err: unknown): WorkerError {
  if (err instanceof InputError) return { name: err.name, message: err.message, code: err.code };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'load') {
    model = loadLocalModel(message.request);
    try {
      const loaded = await model;
      const { recognizer, backend, threads, choice, loadMs, loadPhases } = loaded;
      post({
        type: 'loaded',
        model: {
          backend,
          threads,
          choice,
          loadMs,
          loadPhases,
          thresholds: recognizer.thresholds,
          featureSize: recognizer.featureSize,
        },
      });
      void warmUpFurther(loaded);
    } catch (err) {
      model = null;
      post({ type: 'load-failed', error: asWorkerError(err) });
    }
    return;
  }
  const { id } = message;
  try {
    if (!model) throw new Error('the model is not loaded');
    const loaded = await model;
    if (message.type === 'read') {
      const timed = readLocallyTimed(loaded, message.bitmap, message.ensemble);
      post({ type: 'read', id, ...timed });
    } else {
      const features = featuresOf(loaded.recognizer, message.inputs);
      post(
        { type: 'features', id, features },
        features.map((f) => f.buffer),
      );
    }
  } catch (err) {
    post({ type: 'failed', id, error: asWorkerError(err) });
  }
}

self.addEventListener('message', (event: MessageEvent<ToWorker>) => void handle(event.data));
