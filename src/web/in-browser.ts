/**
 * Recognition in the browser: the same Recognizer (preprocessing, variants, voting) as the
 * server, on TensorFlow.js with the WebAssembly backend (SIMD when available), or the plain
 * JavaScript backend where WebAssembly cannot start. The page imports this module only when
 * it is needed, so the server page stays small; the model loads once and is warmed up.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import { Recognizer } from '../recognizer/recognizer.ts';
import { LineModel } from '../recognizer/line-model.ts';
import { type Reading } from '../recognizer/answers.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import type { Ensemble } from '../core/vote.ts';

export interface LocalModel {
  readonly recognizer: Recognizer;
  /** The tfjs backend in use: 'wasm' or 'cpu'. */
  readonly backend: string;
  /** From the start of loading to warmed up, ms. */
  readonly loadMs: number;
}

let loading: Promise<LocalModel> | null = null;

/**
 * Loads the models once (later calls share the same promise; a failure may be retried): the
 * digit model, and the line model that reads whole numbers.
 */
export function loadLocalModel(urls: ModelUrls): Promise<LocalModel> {
  loading ??= load(urls).catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

async function startBackend(): Promise<string> {
  // Threads need a cross-origin isolated page (SharedArrayBuffer); this small model is
  // fast on one, so the threaded binary is not shipped.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlainUrl,
    'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmSimdUrl,
  });
  try {
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return 'wasm';
    }
  } catch {
    // Fall through to the JavaScript backend.
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}

/** A small synthetic drawing (a diagonal bar) that runs the whole pipeline once. */
function warmUpBitmap(): GrayBitmap {
  const side = 64;
  const data = new Uint8ClampedArray(side * side).fill(255);
  for (let y = 8; y < 56; y++) for (let x = y - 3; x <= y + 3; x++) data[y * side + x] = 0;
  return { width: side, height: side, data };
}

/** Where the page's models are: the digit model, the line models of drawings and of paper. */
export interface ModelUrls {
  readonly digit: string;
  readonly line: string;
  readonly paperLine: string;
}

async function load(urls: ModelUrls): Promise<LocalModel> {
  const start = performance.now();
  const backend = await startBackend();
  const [model, line, paperLine] = await Promise.all([
    tf.loadLayersModel(urls.digit),
    tf.loadLayersModel(urls.line),
    tf.loadLayersModel(urls.paperLine),
  ]);
  const recognizer = new Recognizer(
    model,
    model.name,
    undefined,
    new LineModel(line),
    undefined,
    new LineModel(paperLine),
  );
  recognizer.warmUp();
  // Also compiles the preprocessing, the line reading and the variants' code paths, so the
  // first drawing is fast.
  recognizer.read(warmUpBitmap(), { ink: 'dark', ensemble: 'vote' });
  return { recognizer, backend, loadMs: performance.now() - start };
}

/** Reads the number in a drawing, as POST /api/read does on the server. */
export function readLocally(model: LocalModel, bitmap: GrayBitmap, ensemble: Ensemble): Reading {
  return model.recognizer.read(bitmap, { ink: 'dark', ensemble });
}

/** readLocally(), and where its time went (the drawing made ready, the networks), ms. */
export function readLocallyTimed(
  model: LocalModel,
  bitmap: GrayBitmap,
  ensemble: Ensemble,
): { reading: Reading; preprocessMs: number; inferenceMs: number } {
  return model.recognizer.readTimed(bitmap, { ink: 'dark', ensemble });
}
