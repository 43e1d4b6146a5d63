/**
 * Checkpoints: the replicas' weights and optimizer state plus where training stood, written
 * to `<out>/checkpoint/` after each epoch and on Ctrl-C, and read back by `--resume`.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readArtifacts, saveArtifacts, writeAtomic } from '../model/model-io.ts';
import type { TrainConfig } from './config.ts';
import type { ReplicaState } from './protocol.ts';

export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  readonly trainAccuracy: number;
  /** Of the weights that would be shipped: the moving average when the config keeps one. */
  readonly testAccuracy: number;
  /** Of the trained weights themselves, when they are not what is shipped. */
  readonly trainedTestAccuracy?: number;
  readonly seconds: number;
}

export interface Progress {
  /** Epoch to continue in (0-based) and the first batch of it not yet trained on. */
  readonly epoch: number;
  readonly batch: number;
  readonly history: EpochRecord[];
  readonly trainSeconds: number;
}

interface CheckpointFile extends Progress {
  readonly config: TrainConfig;
}

/** Where a training stood (its config and progress), whichever model it trains. */
type OptimizerIndex = { name: string; shape: number[]; offset: number; length: number }[];

const DIR = 'checkpoint';
/** The weights' moving average, laid out as the checkpoint's weights.bin. */
export const AVERAGED_BIN = 'averaged.bin';

export function checkpointDir(out: string): string {
  return join(out, DIR);
}

export async function saveCheckpoint(
  out: string,
  config: TrainConfig,
  progress: Progress,
  state: ReplicaState,
): Promise<void> {
  await saveReplicaCheckpoint(out, { ...progress, config } satisfies CheckpointFile, state);
}

/**
 * Writes the replicas' `state` and `meta` (a JSON object: the config, and how far training
 * got) to `<out>/checkpoint/`.
 */
export async function saveReplicaCheckpoint(
  out: string,
  meta: object,
  state: ReplicaState,
): Promise<void> {
  const dir = checkpointDir(out);
  await mkdir(dir, { recursive: true });
  await saveArtifacts(dir, {
    modelTopology: state.modelTopology,
    weightSpecs: state.weightSpecs as never,
    weightData: state.weightData,
  });
  let offset = 0;
  const optimizer = state.optimizer.map((t) => {
    const entry = { name: t.name, shape: t.shape, offset, length: t.data.length };
    offset += t.data.length;
    return entry;
  });
  const blob = new Float32Array(offset);
  state.optimizer.forEach((t, i) => blob.set(t.data, optimizer[i].offset));
  await writeAtomic(join(dir, 'optimizer.bin'), new Uint8Array(blob.buffer));
  if (state.averagedWeightData)
    await writeAtomic(join(dir, AVERAGED_BIN), new Uint8Array(state.averagedWeightData));
  else await rm(join(dir, AVERAGED_BIN), { force: true });
  const file = { ...meta, optimizer };
  await writeAtomic(join(dir, 'checkpoint.json'), JSON.stringify(file, null, 2));
}

export async function loadCheckpoint(
  out: string,
): Promise<{ config: TrainConfig; progress: Progress; state: ReplicaState }> {
  const { meta: file, state } = await loadReplicaCheckpoint<CheckpointFile>(out);
  const { epoch, batch, history, trainSeconds } = file;
  // Checkpoints from before weight averaging existed keep training without it.
  const config: TrainConfig = { ...file.config, averageDecay: file.config.averageDecay ?? null };
  return { config, progress: { epoch, batch, history, trainSeconds }, state };
}

/** What saveReplicaCheckpoint wrote: its `meta` and the replicas' state. */
export async function loadReplicaCheckpoint<M extends object>(
  out: string,
): Promise<{ meta: M; state: ReplicaState }> {
  const dir = checkpointDir(out);
  let file: M & { optimizer: OptimizerIndex };
  try {
    file = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
  } catch {
    throw new Error(`--resume: no checkpoint in ${dir}; start without --resume`);
  }
  const artifacts = await readArtifacts(dir);
  const bytes = await readFile(join(dir, 'optimizer.bin'));
  const blob = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const averaged = await readFile(join(dir, AVERAGED_BIN)).catch(() => null);
  const state: ReplicaState = {
    modelTopology: artifacts.modelTopology as object,
    weightSpecs: artifacts.weightSpecs ?? [],
    weightData: artifacts.weightData as ArrayBuffer,
    optimizer: file.optimizer.map((o) => ({
      name: o.name,
      shape: o.shape,
      data: blob.slice(o.offset, o.offset + o.length),
    })),
    averagedWeightData: averaged
      ? averaged.buffer.slice(averaged.byteOffset, averaged.byteOffset + averaged.byteLength)
      : null,
  };
  return { meta: file, state };
}
