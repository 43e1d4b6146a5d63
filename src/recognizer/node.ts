/** Loading the recognizer in Node: the wasm backend and the model folders. */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../model/backend.ts';
import { loadModel, METRICS_JSON, MODEL_JSON } from '../model/model-io.ts';
import { LineModel } from './line-model.ts';
import type { DigitCombination } from '../core/line-reading.ts';
import { Recognizer } from './recognizer.ts';

/** The shipped digit model. */
export const DEFAULT_MODEL_DIR = new URL('../../models/mnist-cnn', import.meta.url).pathname;
/** The shipped line model, which reads whole numbers (npm run train:line). */
export const DEFAULT_LINE_MODEL_DIR = new URL('../../models/line-cnn', import.meta.url).pathname;
/** The shipped line model of writing on paper (scans, photos of checks and forms). */
export const DEFAULT_PAPER_LINE_MODEL_DIR = new URL('../../models/line-paper', import.meta.url)
  .pathname;

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

export interface LoadOptions {
  readonly warmUp?: boolean;
  /**
   * The line model's folder (default: the shipped one); null reads numbers with the
   * segmenter alone, as does a default folder that holds no model.
   */
  readonly lineDir?: string | null;
  /**
   * The line model of writing on paper (default: the shipped one, when there is one); null
   * reads paper with the drawings' line model too.
   */
  readonly paperLineDir?: string | null;
  /** How a digit of a number is decided from both models (default DIGIT_COMBINATION). */
  readonly combination?: DigitCombination;
}

async function loadLineModel(
  dir: string | null | undefined,
  defaultDir: string,
): Promise<LineModel | null> {
  if (dir === null) return null;
  const folder = dir ?? defaultDir;
  const present = await access(join(folder, MODEL_JSON)).then(
    () => true,
    () => false,
  );
  // A folder asked for by name must hold a model; the default one may be absent.
  if (!present && dir === undefined) return null;
  return new LineModel(await loadModel(folder));
}

export async function loadRecognizer(
  dir = DEFAULT_MODEL_DIR,
  options: LoadOptions = {},
): Promise<Recognizer> {
  await useBackend('wasm');
  const [model, line, paperLine, name] = await Promise.all([
    loadModel(dir),
    loadLineModel(options.lineDir, DEFAULT_LINE_MODEL_DIR),
    loadLineModel(options.paperLineDir, DEFAULT_PAPER_LINE_MODEL_DIR),
    modelName(dir),
  ]);
  const recognizer = new Recognizer(
    model,
    name ?? model.name,
    undefined,
    line,
    options.combination,
    line && paperLine,
  );
  if (options.warmUp ?? true) recognizer.warmUp();
  return recognizer;
}
