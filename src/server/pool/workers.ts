/**
 * The inference workers' lifecycle, one state machine. Each worker is `starting` until it has
 * loaded and warmed up the model, then `ready` for work; one whose recognizer failed is
 * `stopping` (it takes no more work) until it exits, and one that exits after it had loaded
 * the model is replaced. The set of them, the pool's state:
 * - `starting`: workers are loading the model; work is admitted and waits;
 * - `ready`: every worker has loaded it once (a worker being replaced does not change that);
 * - `closing`: no new work, none replaced; admitted work finishes;
 * - `closed`: the workers are stopped;
 * - `failed`: the model could not be loaded (a worker said so, or exited before loading it:
 *   starting another would fail the same way); every request is refused.
 * Workers are started by a factory, so that tests drive the machine with fakes.
 */
import type { FastifyBaseLogger } from 'fastify';
import { startTsWorker } from '../../node/ts-worker.ts';
import type { ModelInfo } from '../../recognizer/recognizer.ts';
import type { FromWorker, ToWorker, WorkerData } from '../inference-protocol.ts';

export type PoolState = 'starting' | 'ready' | 'closing' | 'closed' | 'failed';

/** A worker thread as the pool uses it. */
export interface WorkerThread {
  post(message: ToWorker, transfer: readonly ArrayBuffer[]): void;
  terminate(): Promise<unknown>;
}

/** What a worker thread reports, to the handlers it was started with. */
export interface ThreadEvents {
  message(message: FromWorker): void;
  error(err: Error): void;
  exit(code: number): void;
}

/** Starts one worker thread that reports to `events`, later (as a thread does), never at once. */
export type StartWorker = (events: ThreadEvents) => WorkerThread;

export type ResultsMessage = Extract<FromWorker, { type: 'results' }>;

/** What the pool hears from its workers. */
export interface WorkerListener<Work> {
  /** A worker has loaded the model and takes work. */
  ready(): void;
  /** A worker answered a forward pass. */
  results(worker: PoolWorker<Work>, message: ResultsMessage): void;
  /** A worker exited with `work` at it, which will never be answered. */
  exited(work: Work[]): void;
  /** The model cannot be loaded: no worker will take work. */
  failed(): void;
}

export type Log = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

/** One worker, and the work handed to it and not yet answered (by message id). */
export class PoolWorker<Work> {
  state: 'starting' | 'ready' | 'stopping' = 'starting';
  /** Whether it ever loaded the model (one that exits before is not replaced). */
  loaded = false;
  /** Live tensors, as it last reported (after its latest work): the /metrics gauge. */
  tensors = 0;
  readonly running = new Map<number, Work>();
  constructor(readonly thread: WorkerThread) {}
}

const WORKER_URL = new URL('../inference-worker.ts', import.meta.url);

/** Starts the real inference worker (inference-worker.ts), loading the model in `modelDir`. */
export function inferenceWorkers(modelDir?: string): StartWorker {
  return (events) => {
    const data: WorkerData = { modelDir };
    const worker = startTsWorker(WORKER_URL, data);
    worker.on('message', events.message);
    worker.on('error', events.error);
    worker.on('exit', events.exit);
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      terminate: () => worker.terminate(),
    };
  };
}

export class Workers<Work> {
  private current: PoolState = 'starting';
  private readonly all = new Set<PoolWorker<Work>>();
  /** Workers still to load the model a first time before the pool is ready. */
  private pending: number;
  private loadedModel?: ModelInfo;
  private failure?: string;
  private nextId = 1;
  private readonly ready: Promise<ModelInfo>;
  private settleReady!: { resolve: (info: ModelInfo) => void; reject: (err: Error) => void };

  constructor(
    readonly size: number,
    private readonly start: StartWorker,
    private readonly log: Log,
    private readonly listener: WorkerListener<Work>,
  ) {
    this.pending = size;
    this.ready = new Promise<ModelInfo>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Callers may never wait for readiness; a failed load must not become an unhandled rejection.
    this.ready.catch(() => {});
    for (let i = 0; i < size; i++) this.spawn();
  }

  get state(): PoolState {
    return this.current;
  }

  /** Whether work is taken: not closing, closed or failed. */
  get open(): boolean {
    return this.current === 'starting' || this.current === 'ready';
  }

  get model(): ModelInfo | undefined {
    return this.loadedModel;
  }

  get failureMessage(): string | undefined {
    return this.failure;
  }

  /** Resolves once every worker has loaded and warmed up the model; rejects if loading failed. */
  whenReady(): Promise<ModelInfo> {
    return this.ready;
  }

  /** Every worker not yet exited. */
  get alive(): PoolWorker<Work>[] {
    return [...this.all];
  }

  /** The workers that take work now. */
  get available(): PoolWorker<Work>[] {
    return this.alive.filter((worker) => worker.state === 'ready');
  }

  /** Hands `work` to `worker` as `message(id)`; it is kept at the worker until answered. */
  send(
    worker: PoolWorker<Work>,
    work: Work,
    message: (id: number) => ToWorker,
    transfer: readonly ArrayBuffer[],
  ): void {
    const id = this.nextId++;
    worker.running.set(id, work);
    worker.thread.post(message(id), transfer);
  }

  /** The work answered as `id`, no longer at `worker`; undefined if it is not there. */
  take(worker: PoolWorker<Work>, id: number): Work | undefined {
    const work = worker.running.get(id);
    worker.running.delete(id);
    return work;
  }

  /** Takes no more work and replaces no worker (see terminate). */
  closing(): void {
    if (this.current !== 'failed') this.current = 'closing';
  }

  /** Stops every worker. */
  async terminate(): Promise<void> {
    this.closing();
    const stopping = this.alive.map((worker) => worker.thread.terminate());
    this.all.clear();
    await Promise.all(stopping);
    if (this.current !== 'failed') this.current = 'closed';
    if (this.pending > 0)
      this.settleReady.reject(new Error('the pool was closed before it was ready'));
  }

  private spawn(): void {
    const worker: PoolWorker<Work> = new PoolWorker(
      this.start({
        message: (message) => this.onMessage(worker, message),
        error: (err) => this.log.error({ err }, 'inference worker error'),
        exit: (code) => this.onExit(worker, code),
      }),
    );
    this.all.add(worker);
  }

  private onMessage(worker: PoolWorker<Work>, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        this.onReady(worker, message.model, message.tensors);
        break;
      case 'failed':
        this.loadFailed(message.message);
        void worker.thread.terminate();
        break;
      case 'results':
        worker.tensors = message.tensors;
        this.listener.results(worker, message);
        break;
      case 'fatal':
        // The recognizer may be broken (e.g. the wasm heap aborted): replace the worker.
        this.log.error({ reason: message.message }, 'inference worker failed; replacing it');
        worker.state = 'stopping';
        void worker.thread.terminate();
        break;
    }
  }

  private onReady(worker: PoolWorker<Work>, model: ModelInfo, tensors: number): void {
    worker.state = 'ready';
    worker.tensors = tensors;
    this.loadedModel ??= model;
    if (!worker.loaded) {
      worker.loaded = true;
      if (this.pending > 0 && --this.pending === 0) {
        this.log.info({ model, workers: this.size }, 'model loaded and warmed up');
        if (this.current === 'starting') this.current = 'ready';
        this.settleReady.resolve(model);
      }
    }
    this.listener.ready();
  }

  private onExit(worker: PoolWorker<Work>, code: number): void {
    this.all.delete(worker);
    worker.state = 'stopping';
    const lost = [...worker.running.values()];
    worker.running.clear();
    this.listener.exited(lost);
    if (!this.open) return;
    if (!worker.loaded) {
      // It never loaded the model: starting another would fail the same way.
      this.loadFailed(`an inference worker exited with code ${code} while loading the model`);
      return;
    }
    this.log.warn({ code }, 'inference worker exited; starting a new one');
    this.spawn();
  }

  private loadFailed(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.current = 'failed';
    this.log.error({ reason }, 'the model could not be loaded');
    this.settleReady.reject(new Error(`the model could not be loaded: ${reason}`));
    this.listener.failed();
  }
}
