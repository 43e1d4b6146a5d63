/** Loading the recognizer in Node: the wasm backend and the model folder. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../model/backend.ts';
import { loadModel, METRICS_JSON } from '../model/model-io.ts';
import { Recognizer } from './recognizer.ts';

/** The shipped model. */
export const DEFAULT_MODEL_DIR = new URL('../../models/mnist-cnn', import.meta.url).pathname;

async function modelName(dir: string): Promise<string | undefined> {
  try {
    const metrics = JSON.parse(await readFile(join(dir, METRICS_JSON), 'utf8')) as {
      name?: string;
    };
    return metrics.name;
  } catch {
    return undefined;
  }
}

export async function loadRecognizer(
  dir = DEFAULT_MODEL_DIR,
  options: { warmUp?: boolean } = {},
): Promise<Recognizer> {
  await useBackend('wasm');
  const model = await loadModel(dir);
  const recognizer = new Recognizer(model, (await modelName(dir)) ?? model.name);
  if (options.warmUp ?? true) recognizer.warmUp();
  return recognizer;
}
