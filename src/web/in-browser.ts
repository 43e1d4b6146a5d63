/**
 * Recognition in the browser (in the recognition worker): the same Recognizer (preprocessing,
 * variants, voting) as the server, on the fastest TensorFlow.js backend this browser has.
 * The models are fetched once; on the first visit, where more than one backend could serve,
 * each is timed on a few warm readings and the fastest kept (the page remembers the choice:
 * backend-choice.ts, backend-memory.ts). The model is warmed up before it is declared ready.
 */
import * as tf from '@tensorflow/tfjs';
import { Recognizer } from '../recognizer/recognizer.ts';
import { LineModel } from '../recognizer/line-model.ts';
import { type Reading } from '../recognizer/answers.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import { WARM_UP_ROUNDS, warmUpDrawings } from '../recognizer/warm-up.ts';
import type { Ensemble } from '../core/vote.ts';
import {
  choiceKey,
  fastest,
  fingerprint,
  planBackend,
  type BackendChoice,
  type BackendName,
  type BackendRequest,
  type BackendTimes,
} from './backend-choice.ts';
import {
  backendThreads,
  candidateBackends,
  dropBackend,
  startBackend,
  useWasmThreads,
} from './tf-backends.ts';

export interface LocalModel {
  readonly recognizer: Recognizer;
  /** The tfjs backend in use. */
  readonly backend: BackendName;
  /** The wasm backend's threads (1 unless the page is cross-origin isolated); else null. */
  readonly threads: number | null;
  /** How the backend was chosen, and what was measured. */
  readonly choice: BackendChoice;
  /** From the start of loading to warmed up, ms. */
  readonly loadMs: number;
  /** Where the loading's time went. */
  readonly loadPhases: LoadPhases;
}

/**
 * Where the model's loading went, ms: for `npm run bench:web`, so that the slow step shows.
 * `startedAt` is when the worker began loading (its script run), in ms since the epoch (the
 * page subtracts its own `performance.timeOrigin` to place it after navigation).
 */
export interface LoadPhases {
  readonly startedAt: number;
  /** The three models' files fetched (while the backend starts, where it can). */
  readonly fetch: number;
  /** The backend started, beyond the fetch (its wasm compiled), on every backend tried. */
  readonly backend: number;
  /** The models made from their files. */
  readonly build: number;
  /** The warm-up readings (and any backend measurement). */
  readonly warmUp: number;
}

/** Adds each step's time to its phase. */
class LoadClock {
  readonly phases = { fetch: 0, backend: 0, build: 0, warmUp: 0 };
  private last = performance.now();

  lap(phase: keyof LoadClock['phases']): void {
    const now = performance.now();
    this.phases[phase] += now - this.last;
    this.last = now;
  }
}

/** Where the page's models are: the digit model, the line models of drawings and of paper. */
export interface ModelUrls {
  readonly digit: string;
  readonly line: string;
  readonly paperLine: string;
}

/** What the page asks the worker to load. */
export interface LoadRequest {
  readonly urls: ModelUrls;
  readonly backend: BackendRequest;
  /** The choice the page remembers from an earlier visit, if any. */
  readonly remembered: BackendChoice | null;
  /** Whether wasm runs its threaded build (wantsWasmThreads: isolated, 4 cores or more). */
  readonly wasmThreads: boolean;
}

let loading: Promise<LocalModel> | null = null;

/** Loads the models once (later calls share the same promise; a failure may be retried). */
export function loadLocalModel(request: LoadRequest): Promise<LocalModel> {
  loading ??= load(request).catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

type Artifacts = tf.io.ModelArtifacts;

/** The three models' files, fetched once whatever the backends tried. */
function fetchModels(urls: ModelUrls): Promise<Artifacts[]> {
  return Promise.all(
    [urls.digit, urls.line, urls.paperLine].map(async (url) => {
      const files = await tf.io.http(url).load?.();
      if (!files) throw new Error(`no model could be read from ${url}`);
      return files;
    }),
  );
}

/** Identifies the models by their topology, weight specs and weights. */
function modelsFingerprint(models: Artifacts[]): string {
  return fingerprint(
    models.flatMap((m) => {
      const { modelTopology, weightSpecs, userDefinedMetadata } = m;
      const weights = m.weightData === undefined ? [] : [m.weightData].flat();
      return [
        JSON.stringify({ modelTopology, weightSpecs, userDefinedMetadata }),
        ...weights.map((buffer) => new Uint8Array(buffer)),
      ];
    }),
  );
}

interface Built {
  readonly recognizer: Recognizer;
  readonly models: tf.LayersModel[];
}

/** The recognizer on the active backend, its models made from the fetched files, warmed up. */
async function build(files: Artifacts[], drawings: GrayBitmap[], clock: LoadClock): Promise<Built> {
  const models = await Promise.all(files.map((f) => tf.loadLayersModel(tf.io.fromMemory(f))));
  clock.lap('build');
  const [digit, line, paperLine] = models;
  const recognizer = new Recognizer(
    digit,
    digit.name,
    undefined,
    new LineModel(line),
    undefined,
    new LineModel(paperLine),
  );
  recognizer.warmUp();
  // Also compiles the preprocessing, the line reading and the variants' code paths (and on
  // WebGL the shaders), so the first drawing is fast; warmUpFurther does the later rounds.
  for (const drawing of drawings) recognizer.read(drawing, { ink: 'dark', ensemble: 'vote' });
  clock.lap('warmUp');
  return { recognizer, models };
}

/** The median time of the networks over `rounds` readings of each drawing, ms. */
function timeReadings(recognizer: Recognizer, drawings: GrayBitmap[], rounds = 2): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const drawing of drawings) {
      times.push(recognizer.readTimed(drawing, { ink: 'dark', ensemble: 'vote' }).inferenceMs);
    }
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * The models built on `wanted`, or on the next backend after it that starts and runs them
 * (wasm, then JavaScript): a GPU that fails is no reason to have no model.
 */
async function buildOnFirst(
  wanted: BackendName,
  files: Artifacts[],
  drawings: GrayBitmap[],
  clock: LoadClock,
): Promise<{ backend: BackendName; built: Built }> {
  const order: BackendName[] = [wanted, ...(['wasm', 'cpu'] as const).filter((b) => b !== wanted)];
  let failure: unknown = new Error('no TensorFlow.js backend could start in this browser');
  for (const backend of order) {
    const started = await startBackend(backend);
    clock.lap('backend');
    if (!started) continue;
    try {
      return { backend, built: await build(files, drawings, clock) };
    } catch (err) {
      failure = err;
    }
  }
  throw failure;
}

/** Times each candidate and keeps the fastest (its models built, the others' freed). */
async function measure(
  candidates: readonly BackendName[],
  files: Artifacts[],
  drawings: GrayBitmap[],
  clock: LoadClock,
): Promise<{ backend: BackendName; built: Built; times: BackendTimes }> {
  const times: BackendTimes = {};
  const built = new Map<BackendName, Built>();
  for (const name of candidates) {
    const started = await startBackend(name);
    clock.lap('backend');
    if (!started) continue;
    try {
      const b = await build(files, drawings, clock);
      built.set(name, b);
      times[name] = timeReadings(b.recognizer, drawings);
      clock.lap('warmUp');
    } catch {
      // A backend that fails on these models is no candidate.
    }
  }
  const best = fastest(times);
  if (best === null) throw new Error('no TensorFlow.js backend could run the models');
  for (const [name, b] of built) {
    if (name === best) continue;
    for (const model of b.models) model.dispose();
    dropBackend(name);
  }
  await startBackend(best);
  clock.lap('backend');
  return { backend: best, built: built.get(best)!, times };
}

async function load(request: LoadRequest): Promise<LocalModel> {
  const start = performance.now();
  const clock = new LoadClock();
  useWasmThreads(request.wasmThreads);
  const candidates = candidateBackends(request.backend === 'measure');
  // Where the backend does not hang on a remembered choice (it was asked for, or is the only
  // one), it starts (its wasm compiled) while the models are fetched.
  const known = planBackend(request.backend, candidates, '', null);
  const starting = 'use' in known ? startBackend(known.use) : Promise.resolve(false);
  const files = await fetchModels(request.urls);
  clock.lap('fetch');
  await starting;
  clock.lap('backend');
  const key = choiceKey(modelsFingerprint(files), navigator.userAgent, request.wasmThreads);
  const plan = planBackend(request.backend, candidates, key, request.remembered);
  const drawings = warmUpDrawings();
  let backend: BackendName;
  let recognizer: Recognizer;
  let choice: BackendChoice;
  if ('use' in plan) {
    const first = await buildOnFirst(plan.use, files, drawings, clock);
    backend = first.backend;
    recognizer = first.built.recognizer;
    const times = plan.how === 'remembered' ? (request.remembered?.times ?? {}) : {};
    choice = { backend, how: plan.how, key, times };
  } else {
    const measured = await measure(plan.measure, files, drawings, clock);
    backend = measured.backend;
    recognizer = measured.built.recognizer;
    choice = { backend, how: 'measured', key, times: measured.times };
  }
  return {
    recognizer,
    backend,
    threads: backendThreads(backend),
    choice,
    loadMs: performance.now() - start,
    loadPhases: { startedAt: performance.timeOrigin + start, ...clock.phases },
  };
}

/**
 * The warm-up's later rounds (warm-up.ts), once the model is declared ready: they make the
 * JavaScript of reading hot for the later answers (bench:web: a later digit 28 -> 21 ms)
 * without making the first one wait. One drawing per task, so that a reading asked meanwhile
 * waits for one drawing's reading at most.
 */
export async function warmUpFurther(model: LocalModel): Promise<void> {
  const drawings = warmUpDrawings();
  for (let round = 1; round < WARM_UP_ROUNDS; round++) {
    for (const drawing of drawings) {
      await new Promise((ok) => setTimeout(ok, 0));
      model.recognizer.read(drawing, { ink: 'dark', ensemble: 'vote' });
    }
  }
}

/**
 * Reads the number in a drawing, as POST /api/read does on the server, and where its time went
 * (the drawing made ready, the networks), ms.
 */
export function readLocallyTimed(
  model: LocalModel,
  bitmap: GrayBitmap,
  ensemble: Ensemble,
): { reading: Reading; preprocessMs: number; inferenceMs: number } {
  return model.recognizer.readTimed(bitmap, { ink: 'dark', ensemble });
}
