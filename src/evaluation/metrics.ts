/**
 * `metrics.json` beside the model (design.md, "Model"): how the model was trained and how
 * well it does. Written by `npm run eval`, merged into whatever is there already.
 *
 * Keys (stable: add new ones, never rename). Accuracies are fractions, 0..1.
 *   name           the model's name (the server reports it in /healthz)
 *   params         parameter count
 *   architecture   describe() of the architecture, e.g. "conv32-pool-conv64-pool-dense256 dropout0.25"
 *   weightsSha256  SHA-256 of weights.bin: the weights all the figures belong to
 *   variants       the test-time variants (AffineParams[]) the figures were measured with
 *   training       { config: the TrainConfig (src/training/config.ts, or the one the checkpoint
 *                    recorded), epochs: epochs trained | null, trainSeconds: number | null,
 *                    history: [{ epoch, loss, trainAccuracy, testAccuracy, seconds }] | null,
 *                    checkpoint: the checkpoint.json it came from | null }
 *   date           ISO time of the evaluation
 *   commit         `git rev-parse HEAD` at the evaluation (null outside git)
 *   dirty          whether tracked files differed from that commit (null outside git)
 *   mnist          { count, plain, vote, mean, off,
 *                    perClass: { plain: [10], vote: [10] },
 *                    confusion: { plain: 10x10, vote: 10x10 } }
 *                  plain: the model alone on the 28x28 test digits as given; vote/mean/off:
 *                  the whole pipeline (pixels as ink 'light', preprocessed again, variants,
 *                  voting); confusion[true digit][predicted digit] counts
 *   pendigits      the validation writers only, whom training never saw (TrainConfig.penDigits):
 *                  { count, writers, writerIds,
 *                    brush16: { vote, mean, off, perClass: [10] (vote), confusion: 10x10 (vote), empty },
 *                    brush8: { ... } } or null when the data was not there
 *   pendigitsAllWriters  the same for all 30 writers, the training writers included (so
 *                  flattered by training on them); null when the data was not there
 *   unipen         UNIPEN digits of the validation writers (TrainConfig.unipen), as pendigits;
 *                  null when the data was not there
 *   unsure         { all, heldOut }: the "unsure" answers (src/evaluation/unsure.ts UnsureReport:
 *                  thresholds, digits flagged and accuracy unflagged, in all and per source,
 *                  letters and symbols flagged, AUROC of each score, per character) on all
 *                  validation writers, and on the half that npm run calibrate did not use;
 *                  null without the data
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AffineParams } from '../core/affine.ts';
import { describe } from '../model/architecture.ts';
import { METRICS_JSON, WEIGHTS_BIN, writeAtomic } from '../model/model-io.ts';
import { AVERAGED_BIN, type EpochRecord } from '../training/checkpoint.ts';
import { TRAIN, type TrainConfig } from '../training/config.ts';
import { formatJson } from './json.ts';
import type { MnistEvaluation } from './mnist.ts';
import type { PendigitsEvaluation, WriterId } from './pendigits.ts';
import type { ModeStats } from './stats.ts';
import type { UnsureReport } from './unsure.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where `npm run train` keeps the checkpoint of the shipped model's run. */
export const DEFAULT_CHECKPOINT = join(REPO_ROOT, 'runs/mnist-cnn/checkpoint/checkpoint.json');

export interface TrainingRecord {
  readonly config: TrainConfig;
  readonly epochs: number | null;
  readonly trainSeconds: number | null;
  readonly history: EpochRecord[] | null;
  readonly checkpoint: string | null;
}

export interface BrushMetrics {
  readonly vote: number;
  readonly mean: number;
  readonly off: number;
  readonly perClass: (number | null)[];
  readonly confusion: number[][];
  readonly empty: number;
}

export interface Metrics {
  readonly name: string;
  readonly params: number;
  readonly architecture: string;
  readonly weightsSha256: string;
  readonly variants: readonly AffineParams[];
  readonly training: TrainingRecord;
  readonly date: string;
  readonly commit: string | null;
  readonly dirty: boolean | null;
  readonly mnist: {
    readonly count: number;
    readonly plain: number | null;
    readonly vote: number;
    readonly mean: number;
    readonly off: number;
    readonly perClass: {
      readonly plain: (number | null)[] | null;
      readonly vote: (number | null)[];
    };
    readonly confusion: { readonly plain: number[][] | null; readonly vote: number[][] };
  };
  readonly pendigits: PendigitsMetrics | null;
  readonly pendigitsAllWriters: PendigitsMetrics | null;
  readonly unipen: PendigitsMetrics | null;
  readonly unsure: UnsureMetrics | null;
}

export interface UnsureMetrics {
  readonly all: UnsureReport;
  readonly heldOut: UnsureReport;
}

export interface PendigitsMetrics {
  readonly count: number;
  readonly writers: number;
  readonly writerIds: WriterId[];
  readonly [brush: `brush${number}`]: BrushMetrics;
}

/** One group of writers, evaluated at each brush. */
export interface PendigitsGroup {
  readonly writerIds: WriterId[];
  readonly results: readonly PendigitsEvaluation[];
}

/** Six decimals are plenty for an accuracy, and keep the file readable. */
export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Every number of a report rounded as the rest of the file is. */
function roundReport(report: UnsureReport): UnsureReport {
  return JSON.parse(JSON.stringify(report), (_key, v: unknown) =>
    typeof v === 'number' && !Number.isInteger(v) ? round(v) : v,
  ) as UnsureReport;
}

const roundAll = (values: (number | null)[]) => values.map((v) => (v === null ? null : round(v)));

export async function weightsHash(modelDir: string, file = WEIGHTS_BIN): Promise<string> {
  return createHash('sha256')
    .update(await readFile(join(modelDir, file)))
    .digest('hex');
}

export function gitState(cwd = REPO_ROOT): { commit: string | null; dirty: boolean | null } {
  try {
    const run = (...args: string[]) =>
      execFileSync('git', args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = run('rev-parse', 'HEAD');
    const dirty = run('status', '--porcelain', '--untracked-files=no') !== '';
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}

interface CheckpointJson {
  readonly epoch: number;
  readonly history: EpochRecord[];
  readonly trainSeconds: number;
  readonly config: TrainConfig;
}

export interface HistoryLookup {
  readonly training: TrainingRecord | null;
  /** Why a checkpoint was or was not used, for the report. */
  readonly note: string | null;
}

async function readCheckpoint(path: string): Promise<CheckpointJson | null> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as CheckpointJson;
    if (!Array.isArray(json.history) || typeof json.config !== 'object') return null;
    return json;
  } catch {
    return null;
  }
}

function recordOf(path: string, cp: CheckpointJson): TrainingRecord {
  return {
    config: cp.config,
    epochs: cp.history.length,
    trainSeconds: cp.trainSeconds,
    history: cp.history,
    checkpoint: path,
  };
}

/**
 * The training history of the model in `modelDir`. `explicit` (a checkpoint.json or the
 * folder holding it) is taken as given; otherwise `<model>/checkpoint/checkpoint.json` and
 * runs/mnist-cnn/checkpoint/checkpoint.json are used only when their weights are the
 * model's (the final model is the last checkpoint's weights), so an unfinished or
 * different run is not credited with this model.
 */
export async function findHistory(modelDir: string, explicit?: string): Promise<HistoryLookup> {
  if (explicit) {
    const path = explicit.endsWith('.json')
      ? resolve(explicit)
      : resolve(explicit, 'checkpoint.json');
    const cp = await readCheckpoint(path);
    if (!cp) throw new Error(`--history: no readable checkpoint.json at ${path}`);
    return { training: recordOf(path, cp), note: `training history from ${path}` };
  }
  const model = await weightsHash(modelDir);
  const notes: string[] = [];
  for (const path of [
    join(resolve(modelDir), 'checkpoint', 'checkpoint.json'),
    DEFAULT_CHECKPOINT,
  ]) {
    const cp = await readCheckpoint(path);
    if (!cp) continue;
    // The model is the run's trained weights, or their moving average (what training ships).
    const hashes = [WEIGHTS_BIN, AVERAGED_BIN].map((file) =>
      weightsHash(dirname(path), file).catch(() => null),
    );
    const same = (await Promise.all(hashes)).includes(model);
    if (same) return { training: recordOf(path, cp), note: `training history from ${path}` };
    notes.push(
      `${path} was not used: its weights are not this model's (another run, or one still training); ` +
        'pass --history to use it anyway',
    );
  }
  return { training: null, note: notes.length ? notes.join('; ') : null };
}

export interface MetricsInput {
  readonly name: string;
  readonly params: number;
  readonly weightsSha256: string;
  readonly variants: readonly AffineParams[];
  readonly training: TrainingRecord | null;
  readonly mnist: MnistEvaluation;
  /** Null when the pen-digits data was not available. */
  readonly pendigits: { readonly validation: PendigitsGroup; readonly all: PendigitsGroup } | null;
  /** Null when the UNIPEN data was not available. */
  readonly unipen?: PendigitsGroup | null;
  readonly unsure?: UnsureMetrics | null;
  readonly date?: Date;
  readonly git?: { commit: string | null; dirty: boolean | null };
}

function brushMetrics(r: PendigitsEvaluation): BrushMetrics {
  return {
    vote: round(r.vote.accuracy),
    mean: round(r.mean.accuracy),
    off: round(r.off.accuracy),
    perClass: roundAll(r.vote.perClass),
    confusion: r.vote.confusion,
    empty: r.vote.empty,
  };
}

export function buildMetrics(input: MetricsInput): Metrics {
  const training: TrainingRecord = input.training ?? {
    config: TRAIN,
    epochs: null,
    trainSeconds: null,
    history: null,
    checkpoint: null,
  };
  const m = input.mnist;
  const plain: ModeStats | null = m.plain;
  const git = input.git ?? gitState();
  const group = (g: PendigitsGroup | undefined): PendigitsMetrics | null =>
    g && g.results.length > 0
      ? {
          count: g.results[0].count,
          writers: g.writerIds.length,
          writerIds: g.writerIds,
          ...Object.fromEntries(
            g.results.map((r) => [`brush${r.brush}`, brushMetrics(r)] as const),
          ),
        }
      : null;
  return {
    name: input.name,
    params: input.params,
    architecture: describe(training.config.architecture),
    weightsSha256: input.weightsSha256,
    variants: input.variants,
    training,
    date: (input.date ?? new Date()).toISOString(),
    commit: git.commit,
    dirty: git.dirty,
    mnist: {
      count: m.count,
      plain: plain ? round(plain.accuracy) : null,
      vote: round(m.vote.accuracy),
      mean: round(m.mean.accuracy),
      off: round(m.off.accuracy),
      perClass: { plain: plain ? roundAll(plain.perClass) : null, vote: roundAll(m.vote.perClass) },
      confusion: { plain: plain ? plain.confusion : null, vote: m.vote.confusion },
    },
    pendigits: group(input.pendigits?.validation),
    pendigitsAllWriters: group(input.pendigits?.all),
    unipen: group(input.unipen ?? undefined),
    unsure: input.unsure
      ? { all: roundReport(input.unsure.all), heldOut: roundReport(input.unsure.heldOut) }
      : null,
  };
}

export async function readMetrics(modelDir: string): Promise<Record<string, unknown> | null> {
  try {
    const json: unknown = JSON.parse(await readFile(join(modelDir, METRICS_JSON), 'utf8'));
    return json && typeof json === 'object' && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * Merges `metrics` into `existing`: keys written by others stay. When `existing` was
 * measured on other weights (a different weightsSha256), its training, mnist and pendigits
 * figures are dropped rather than kept beside the new ones; for the same weights, a
 * section missing now (pen digits not available, no history found) keeps its old value.
 */
export function mergeMetrics(
  existing: Record<string, unknown> | null,
  metrics: Metrics,
): Record<string, unknown> {
  const old = existing ?? {};
  const sameWeights =
    old.weightsSha256 === undefined || old.weightsSha256 === metrics.weightsSha256;
  const merged: Record<string, unknown> = { ...old, ...metrics };
  if (sameWeights) {
    if (metrics.unipen === null && old.unipen) {
      merged.unipen = old.unipen;
      merged.unsure = old.unsure ?? null;
    }
    if (metrics.pendigits === null && old.pendigits) {
      merged.pendigits = old.pendigits;
      merged.pendigitsAllWriters = old.pendigitsAllWriters ?? null;
    }
    const oldTraining = old.training as Partial<TrainingRecord> | undefined;
    if (metrics.training.history === null && oldTraining?.history) merged.training = oldTraining;
  }
  return merged;
}

/** Writes `<modelDir>/metrics.json` (merged, atomically); returns what was written. */
export async function writeMetrics(
  modelDir: string,
  metrics: Metrics,
): Promise<Record<string, unknown>> {
  const merged = mergeMetrics(await readMetrics(modelDir), metrics);
  await writeAtomic(join(modelDir, METRICS_JSON), formatJson(merged));
  return merged;
}
