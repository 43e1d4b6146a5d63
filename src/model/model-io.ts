/**
 * The model folder is the contract between training and serving: `model.json` and
 * `weights.bin` in the TensorFlow.js layers format (loadable by tfjs in any browser), and
 * `metrics.json` describing how it was trained and how well it does.
 */
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const METRICS_JSON = 'metrics.json';

/** Writes a file atomically so a crash never leaves a half-written model behind. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function saveArtifacts(dir: string, artifacts: tf.io.ModelArtifacts): Promise<void> {
  await mkdir(dir, { recursive: true });
  const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
  const modelJson = {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    ...(artifacts.userDefinedMetadata && { userDefinedMetadata: artifacts.userDefinedMetadata }),
  };
  await writeAtomic(join(dir, WEIGHTS_BIN), weights);
  await writeAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
}

export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!saved) throw new Error('model.save produced no artifacts');
  return saved;
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await saveArtifacts(dir, await modelArtifacts(model));
}

export async function readArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(dir, MODEL_JSON);
  let json: {
    modelTopology: object;
    format?: string;
    userDefinedMetadata?: { [key: string]: object };
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `no model at ${dir} (${MODEL_JSON} not found); train one with \`npm run train\``
        : `cannot read ${jsonPath}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const buffers = await Promise.all(
    json.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))),
  );
  const total = Buffer.concat(buffers);
  const weightData = total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    weightSpecs: specs,
    weightData,
    ...(json.userDefinedMetadata && { userDefinedMetadata: json.userDefinedMetadata }),
  };
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(await readArtifacts(dir)));
}

/**
 * Merges `metadata` into model.json's `userDefinedMetadata` (what tfjs hands back through
 * `getUserDefinedMetadata()`, in Node and in the browser alike), leaving the weights alone.
 */
export async function writeModelMetadata(
  dir: string,
  metadata: Record<string, object>,
): Promise<void> {
  const path = join(dir, MODEL_JSON);
  const json = JSON.parse(await readFile(path, 'utf8')) as { userDefinedMetadata?: object };
  json.userDefinedMetadata = { ...json.userDefinedMetadata, ...metadata };
  await writeAtomic(path, JSON.stringify(json));
}
