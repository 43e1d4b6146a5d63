/**
 * A pool of inference workers, each with its own wasm recognizer, so recognition runs off
 * the event loop on every core. A small pool of our own rather than piscina: we need to know
 * when every worker has loaded the model (/healthz), each worker's live tensors (/metrics),
 * and to replace a worker whose recognizer failed, none of which piscina exposes.
 *
 * Work goes to the ready worker with the fewest images in flight; a batch is cut into
 * chunks of one forward pass each, so a big batch uses every worker.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { startTsWorker } from '../node/ts-worker.ts';
import type { ModelInfo } from '../recognizer/recognizer.ts';
import { ApiError } from './errors.ts';
import type {
  FromWorker,
  ReadResult,
  ToWorker,
  WorkInput,
  WorkOperation,
  WorkResult,
  WorkResults,
  WorkerData,
} from './inference-protocol.ts';

const WORKER_URL = new URL('./inference-worker.ts', import.meta.url);

/** Inputs per task: the worker's forward-pass size (inference-worker.ts, MAX_PASS_INPUTS). */
const CHUNK = 16;

export interface InferencePoolOptions {
  /** Worker threads; default: one per core. */
  readonly size?: number;
  readonly modelDir?: string;
  readonly log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
}

export type PoolState = 'loading' | 'ready' | 'failed' | 'closed';

interface Task {
  readonly id: number;
  readonly inputs: WorkInput[];
  readonly operation: WorkOperation;
  readonly resolve: (results: (WorkResult | ReadResult)[]) => void;
  readonly reject: (error: Error) => void;
}

class Slot {
  ready = false;
  everReady = false;
  /** Images sent and not yet answered. */
  load = 0;
  tensors = 0;
  readonly pending = new Map<number, Task>();
  constructor(readonly worker: Worker) {}
}

const silent = { info: () => {}, warn: () => {}, error: () => {} };

export class InferencePool {
  readonly size: number;
  private readonly modelDir?: string;
  private readonly log: NonNullable<InferencePoolOptions['log']>;
  private readonly slots = new Set<Slot>();
  private readonly waiting: Task[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private nextId = 1;
  private loadedModel?: ModelInfo;
  private failure?: string;
  private closing = false;
  private initialPending: number;
  private readonly ready: Promise<ModelInfo>;
  private settleReady!: { resolve: (info: ModelInfo) => void; reject: (err: Error) => void };

  constructor(options: InferencePoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    this.modelDir = options.modelDir;
    this.log = options.log ?? silent;
    this.initialPending = this.size;
    this.ready = new Promise<ModelInfo>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Callers may never wait for readiness; a failed load must not become an unhandled rejection.
    this.ready.catch(() => {});
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /** Resolves once every worker has loaded and warmed up the model; rejects if loading failed. */
  whenReady(): Promise<ModelInfo> {
    return this.ready;
  }

  get state(): PoolState {
    if (this.closing) return 'closed';
    if (this.failure !== undefined) return 'failed';
    if (this.initialPending > 0 || this.readyWorkers === 0) return 'loading';
    return 'ready';
  }

  get failureMessage(): string | undefined {
    return this.failure;
  }

  get model(): ModelInfo | undefined {
    return this.loadedModel;
  }

  get readyWorkers(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.ready) n++;
    return n;
  }

  /** Live tensors over all workers, as each last reported (after its latest work). */
  get liveTensors(): number {
    let n = 0;
    for (const slot of this.slots) n += slot.tensors;
    return n;
  }

  /** Images sent to workers and not yet answered, plus those waiting for a worker. */
  get queuedInputs(): number {
    let n = this.waiting.reduce((sum, task) => sum + task.inputs.length, 0);
    for (const slot of this.slots) n += slot.load;
    return n;
  }

  /** Recognizes every input; one result (a recognition or an input error) per input, in order. */
  async recognize(inputs: WorkInput[]): Promise<WorkResult[]> {
    return this.runAll('recognize', inputs);
  }

  /** Reads a number in each input; one result (a reading or an input error) per input, in order. */
  async read(inputs: WorkInput[]): Promise<ReadResult[]> {
    return this.runAll('read', inputs);
  }

  private async runAll<Op extends WorkOperation>(
    operation: Op,
    inputs: WorkInput[],
  ): Promise<WorkResults[Op][]> {
    const chunks: WorkInput[][] = [];
    for (let i = 0; i < inputs.length; i += CHUNK) chunks.push(inputs.slice(i, i + CHUNK));
    const results = await Promise.all(chunks.map((chunk) => this.run(operation, chunk)));
    return results.flat();
  }

  /** Stops taking work, lets the work in flight finish, then stops the workers. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const task of this.waiting.splice(0)) task.reject(this.unavailable());
    await Promise.allSettled([...this.inflight]);
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
    this.slots.clear();
    if (this.initialPending > 0)
      this.settleReady.reject(new Error('the pool was closed before it was ready'));
  }

  private unavailable(): ApiError {
    if (this.closing)
      return new ApiError(503, 'not_ready', 'the server is shutting down: try again shortly');
    return new ApiError(
      503,
      'model_unavailable',
      `the model could not be loaded: ${this.failure ?? 'unknown error'}`,
    );
  }

  private run<Op extends WorkOperation>(
    operation: Op,
    inputs: WorkInput[],
  ): Promise<WorkResults[Op][]> {
    if (this.closing || this.failure !== undefined) return Promise.reject(this.unavailable());
    const promise = new Promise<WorkResults[Op][]>((resolve, reject) => {
      // The worker answers each input with the result of the operation it was asked for.
      const settle = (results: (WorkResult | ReadResult)[]) =>
        resolve(results as WorkResults[Op][]);
      const task: Task = { id: this.nextId++, inputs, operation, resolve: settle, reject };
      if (!this.dispatch(task)) this.waiting.push(task);
    });
    this.inflight.add(promise);
    const forget = () => this.inflight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** Sends a task to the least loaded ready worker; false if none is ready. */
  private dispatch(task: Task): boolean {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.ready && (!best || slot.load < best.load)) best = slot;
    }
    if (!best) return false;
    best.pending.set(task.id, task);
    best.load += task.inputs.length;
    const message: ToWorker = {
      type: 'recognize',
      id: task.id,
      inputs: task.inputs,
      operation: task.operation,
    };
    // Pixel arrays move to the worker without a copy (they are not used here afterwards).
    const transfer = task.inputs.flatMap((input) =>
      input.kind === 'pixels' ? [input.pixels.buffer as ArrayBuffer] : [],
    );
    best.worker.postMessage(message, transfer);
    return true;
  }

  private flushWaiting(): void {
    while (this.waiting.length && this.dispatch(this.waiting[0])) this.waiting.shift();
  }

  private spawn(): void {
    const data: WorkerData = { modelDir: this.modelDir };
    const slot = new Slot(startTsWorker(WORKER_URL, data));
    this.slots.add(slot);
    slot.worker.on('message', (message: FromWorker) => this.onMessage(slot, message));
    slot.worker.on('error', (err) => this.log.error({ err }, 'inference worker error'));
    slot.worker.on('exit', (code) => this.onExit(slot, code));
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'ready': {
        slot.ready = true;
        slot.tensors = message.tensors;
        this.loadedModel ??= message.model;
        if (!slot.everReady) {
          slot.everReady = true;
          if (this.initialPending > 0 && --this.initialPending === 0) {
            this.log.info(
              { model: message.model, workers: this.size },
              'model loaded and warmed up',
            );
            this.settleReady.resolve(message.model);
          }
        }
        this.flushWaiting();
        break;
      }
      case 'failed':
        this.fail(message.message);
        void slot.worker.terminate();
        break;
      case 'results': {
        slot.tensors = message.tensors;
        for (const { id, results } of message.answers) {
          const task = slot.pending.get(id);
          if (!task) continue;
          slot.pending.delete(id);
          slot.load -= task.inputs.length;
          task.resolve(results);
        }
        break;
      }
      case 'fatal':
        // The recognizer may be broken (e.g. the wasm heap aborted): replace the worker.
        this.log.error({ reason: message.message }, 'inference worker failed; replacing it');
        slot.ready = false;
        void slot.worker.terminate();
        break;
    }
  }

  private fail(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.log.error({ reason }, 'the model could not be loaded');
    this.settleReady.reject(new Error(`the model could not be loaded: ${reason}`));
    for (const task of this.waiting.splice(0)) task.reject(this.unavailable());
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.delete(slot);
    for (const task of slot.pending.values()) {
      task.reject(
        new ApiError(
          500,
          'internal_error',
          'the recognizer stopped while handling this request and is being restarted: try again',
        ),
      );
    }
    slot.pending.clear();
    if (this.closing || this.failure !== undefined) return;
    if (!slot.everReady) {
      // It never loaded the model: starting another would fail the same way.
      this.fail(`an inference worker exited with code ${code} while loading the model`);
      return;
    }
    this.log.warn({ code }, 'inference worker exited; starting a new one');
    this.spawn();
  }
}
