/**
 * The line model's training loop: data-parallel steps over replicas that draw their own
 * strips (line-replica-worker.ts), gradients averaged and clipped here, a reading of held-out
 * writers' numbers and a checkpoint every `checkpointEvery` steps, the averaged weights saved
 * in `out` at the end.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { digitText, LINE_CLASSES, OTHER_MARK } from '../core/ctc.ts';
import { LINE_HEIGHT, LINE_STRIDE, padStrips } from '../core/line-image.ts';
import { decodeLine } from '../core/line-reading.ts';
import { Random } from '../core/random.ts';
import { saveArtifacts, writeAtomic } from '../model/model-io.ts';
import { describeLine } from '../model/line-architecture.ts';
import { loadReplicaCheckpoint, saveReplicaCheckpoint } from './checkpoint.ts';
import { lineLearningRateAt, type LineTrainConfig } from './line-config.ts';
import { lineSample, type LineSample } from './line-samples.ts';
import { loadLineSources, type LineSourceDirs } from './line-sources.ts';
import type { FromLineReplica, ReplicaState, ToLineReplica } from './protocol.ts';
import { averageGradients, Replica } from './replicas.ts';

type LineReplica = Replica<ToLineReplica, FromLineReplica>;

export interface LineProgress {
  /** Steps done. */
  readonly step: number;
  readonly seconds: number;
  readonly history: LineValidation[];
}

export interface LineValidation {
  readonly step: number;
  readonly loss: number;
  /** Numbers of held-out writers read exactly, by how they were composed. */
  readonly exact: Record<string, number>;
  /** Words of held-out writers read as holding a mark that is no digit. */
  readonly wordsFlagged: number;
}

export interface LineStepReport {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly samplesPerSecond: number;
  readonly learningRate: number;
  readonly secondsLeft: number;
}

export interface LineTrainOptions extends LineSourceDirs {
  readonly config: LineTrainConfig;
  readonly out: string;
  readonly resume: boolean;
  /** Held-out strips of each kind read at each checkpoint. */
  readonly validationSize?: number;
}

export interface LineTrainHooks {
  onStart?(info: { params: number; from: number }): void;
  onStep?(report: LineStepReport): void;
  onValidation?(record: LineValidation): void;
  shouldStop?(): boolean;
}

interface LineCheckpoint extends LineProgress {
  readonly config: LineTrainConfig;
}

/** The seed of replica r's share of step s: the same strips after a resume. */
const stepSeed = (seed: number, step: number, replica: number) =>
  (Math.imul(seed ^ 0x5bd1e995, 31 + step) + Math.imul(replica + 1, 0x27d4eb2d)) >>> 0;

async function startReplicas(
  config: LineTrainConfig,
  dirs: LineSourceDirs,
  state: ReplicaState | null,
): Promise<{ replicas: LineReplica[]; params: number }> {
  const script = new URL('./line-replica-worker.ts', import.meta.url);
  const replicas = Array.from(
    { length: Math.max(1, config.workers) },
    (): LineReplica => new Replica(script),
  );
  const init = (r: LineReplica, from: ReplicaState | null) =>
    r.request<'ready'>({
      type: 'init',
      architecture: config.architecture,
      data: config.data,
      dirs,
      seed: config.seed,
      state: from,
      averageDecay: config.averageDecay,
    });
  try {
    const first = await init(replicas[0], state);
    const shared = state ?? (await replicas[0].request<'state'>({ type: 'state' })).state;
    await Promise.all(replicas.slice(1).map((r) => init(r, shared)));
    return { replicas, params: first.params };
  } catch (err) {
    await Promise.all(replicas.map((r) => r.close()));
    throw err;
  }
}

/** The held-out sets read at each checkpoint: tight and spaced numbers, and words. */
async function validationSets(config: LineTrainConfig, dirs: LineSourceDirs, size: number) {
  const { fields, ...sources } = await loadLineSources('validation', dirs);
  const rng = new Random(1207);
  const make = (name: string, data: LineTrainConfig['data']) => ({
    name,
    samples: Array.from({ length: size }, () => lineSample(sources, rng, data)),
  });
  const numbers = { ...config.data, words: 0, scribbles: 0, separators: 0, singleDigit: 0 };
  // The held-out checks as they are, when there are some.
  const checks: LineSample[] = fields.map((f) => ({ ...f, kind: 'number' }));
  return [
    make('tight', { ...numbers, gaps: [{ range: [-0.1, 0.12], weight: 1 }] }),
    make('spaced', { ...numbers, gaps: [{ range: [0.1, 0.45], weight: 1 }] }),
    make('words', { ...config.data, words: 1, scribbles: 0 }),
    ...(checks.length ? [{ name: 'checks', samples: checks }] : []),
  ];
}

/** What the line model reads in each strip: its digits, and whether it saw a mark that is no digit. */
async function readStrips(replica: LineReplica, samples: readonly LineSample[], averaged: boolean) {
  const out: { text: string; other: boolean }[] = [];
  const sorted = samples
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.image.width - b.s.image.width);
  for (let start = 0; start < sorted.length; start += 32) {
    const part = sorted.slice(start, start + 32);
    const { images, width } = padStrips(part.map((p) => p.s.image));
    const { logits } = await replica.request<'logits'>(
      { type: 'logits', images, count: part.length, width, averaged },
      [images.buffer as ArrayBuffer],
    );
    const columns = width / LINE_STRIDE;
    part.forEach(({ s, i }, k) => {
      const steps = s.image.width / LINE_STRIDE;
      const rows = logits.subarray(
        k * columns * LINE_CLASSES,
        (k * columns + steps) * LINE_CLASSES,
      );
      const tokens = decodeLine(rows, steps).tokens.map((t) => t.token);
      out[i] = { text: digitText(tokens), other: tokens.includes(OTHER_MARK) };
    });
  }
  return out;
}

export async function trainLine(
  options: LineTrainOptions,
  hooks: LineTrainHooks = {},
): Promise<{ completed: boolean; progress: LineProgress; params: number }> {
  await mkdir(options.out, { recursive: true });
  const resumed = options.resume ? await loadReplicaCheckpoint<LineCheckpoint>(options.out) : null;
  const config: LineTrainConfig = resumed
    ? { ...resumed.meta.config, steps: Math.max(resumed.meta.config.steps, options.config.steps) }
    : options.config;
  const dirs: LineSourceDirs = {
    pendigitsDir: options.pendigitsDir,
    unipenDir: options.unipenDir,
    // MNIST is loaded only when the numbers are made of scanned digits too.
    mnistDir: config.data.scanned > 0 ? options.mnistDir : null,
    checksDir: options.checksDir,
  };
  const validation = await validationSets(config, dirs, options.validationSize ?? 300);
  const { replicas, params } = await startReplicas(config, dirs, resumed?.state ?? null);
  let progress: LineProgress = resumed?.meta ?? { step: 0, seconds: 0, history: [] };
  hooks.onStart?.({ params, from: progress.step });

  const validate = async (loss: number): Promise<LineValidation> => {
    const exact: Record<string, number> = {};
    let wordsFlagged = 0;
    for (const set of validation) {
      const reads = await readStrips(replicas[0], set.samples, config.averageDecay !== null);
      if (set.name === 'words') wordsFlagged = reads.filter((r) => r.other).length / reads.length;
      else
        exact[set.name] =
          reads.filter((r, i) => !r.other && r.text === set.samples[i].text).length / reads.length;
    }
    const record = { step: progress.step, loss, exact, wordsFlagged };
    hooks.onValidation?.(record);
    return record;
  };
  /** Reads the held-out sets, saves a checkpoint and hands back the state it saved. */
  const checkpoint = async (loss: number): Promise<ReplicaState> => {
    const record = await validate(loss);
    progress = { ...progress, history: [...progress.history, record] };
    const { state } = await replicas[0].request<'state'>({ type: 'state' });
    await saveReplicaCheckpoint(
      options.out,
      { ...progress, config } satisfies LineCheckpoint,
      state,
    );
    return state;
  };

  try {
    const share = Math.ceil(config.batchSize / replicas.length);
    let recentLoss = 0;
    let losses = 0;
    let started = performance.now();
    let stepsTimed = 0;
    let saved: ReplicaState | null = null;
    /** Steps' time since the last checkpoint counts as training; the checkpoint's does not. */
    const checkpointNow = async (loss: number) => {
      progress = { ...progress, seconds: progress.seconds + (performance.now() - started) / 1000 };
      const state = await checkpoint(loss);
      started = performance.now();
      stepsTimed = 0;
      return state;
    };
    while (progress.step < config.steps) {
      if (hooks.shouldStop?.()) {
        await checkpointNow(losses ? recentLoss / losses : NaN);
        return { completed: false, progress, params };
      }
      const step = progress.step;
      const replies = await Promise.all(
        replicas.map((r, i) =>
          r.request<'gradients'>({
            type: 'gradients',
            count: share,
            seed: stepSeed(config.seed, step, i),
          }),
        ),
      );
      const total = replies.reduce((n, r) => n + r.count, 0);
      const mean = averageGradients(replies);
      let norm = 0;
      for (const g of mean) norm += g * g;
      norm = Math.sqrt(norm);
      if (norm > config.clipNorm)
        for (let i = 0; i < mean.length; i++) mean[i] *= config.clipNorm / norm;
      const learningRate = lineLearningRateAt(config, step);
      for (const r of replicas) r.post({ type: 'apply', gradients: mean, learningRate, step });
      const loss = replies.reduce((s, r) => s + r.loss * r.count, 0) / total;
      recentLoss += loss;
      losses++;
      stepsTimed++;
      const elapsed = (performance.now() - started) / 1000;
      progress = { ...progress, step: step + 1 };
      const perStep = elapsed / stepsTimed;
      hooks.onStep?.({
        step: step + 1,
        steps: config.steps,
        loss,
        samplesPerSecond: total / perStep,
        learningRate,
        secondsLeft: perStep * (config.steps - step - 1),
      });
      if ((step + 1) % config.checkpointEvery === 0 || step + 1 === config.steps) {
        saved = await checkpointNow(recentLoss / losses);
        recentLoss = 0;
        losses = 0;
      }
    }
    // The last step always checkpoints; a resumed run that had nothing left to do did not.
    const state = saved ?? (await replicas[0].request<'state'>({ type: 'state' })).state;
    await saveArtifacts(options.out, {
      modelTopology: state.modelTopology,
      weightSpecs: state.weightSpecs as never,
      weightData: state.averagedWeightData ?? state.weightData,
    });
    const last = progress.history[progress.history.length - 1];
    await writeAtomic(
      join(options.out, 'metrics.json'),
      JSON.stringify(
        {
          name: config.architecture.name,
          params,
          architecture: describeLine(config.architecture),
          input: { height: LINE_HEIGHT, stride: LINE_STRIDE, classes: LINE_CLASSES },
          validation: last,
          training: {
            config,
            steps: progress.step,
            seconds: Math.round(progress.seconds),
            history: progress.history,
            date: new Date().toISOString(),
          },
        },
        null,
        2,
      ),
    );
    return { completed: true, progress, params };
  } finally {
    await Promise.all(replicas.map((r) => r.close()));
  }
}
