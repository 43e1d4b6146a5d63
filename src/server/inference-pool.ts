/**
 * A pool of inference workers, each with its own wasm recognizer, so recognition runs off
 * the event loop on every core. A small pool of our own rather than piscina: we need to know
 * when every worker has loaded the model (/healthz), each worker's live tensors (/metrics),
 * to replace a worker whose recognizer failed, and to choose which client's work goes next,
 * none of which piscina exposes.
 *
 * Work waits on the main thread, in the fair scheduler (scheduler.ts), cut into pieces of at
 * most one forward pass; a worker is handed the next piece only when it has room (less than
 * WORKER_ROOM of estimated work at it). The real queue is therefore here, where it is fair and
 * bounded, not inside the workers, and a worker still batches the few pieces it holds into
 * one forward pass.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import { startTsWorker } from '../node/ts-worker.ts';
import type { ModelInfo } from '../recognizer/recognizer.ts';
import type { CostedInput } from './cost.ts';
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
import {
  FairScheduler,
  type Piece,
  type QueueDepth,
  type Refusal,
  type SchedulerLimits,
  type ShedReason,
  Ticket,
} from './scheduler.ts';
import { WorkLedger, type WorkBudget } from './work-ledger.ts';

const WORKER_URL = new URL('./inference-worker.ts', import.meta.url);

/** Inputs per piece: the worker's forward-pass size (inference-worker.ts, MAX_PASS_INPUTS). */
const PIECE_INPUTS = 16;
/**
 * Estimated work per piece (µs): 16 canvas snapshots, or one large image. It is also how long
 * another client's work may wait for a busy worker, so it stays well under the 150 ms a
 * single digit may take under load (issue 14).
 */
const PIECE_COST = 50_000;
/**
 * A worker already holding work is handed another piece only while all of it stays within
 * this (µs, estimated): the single-image requests of 8 connections share forward passes
 * (bench:http), while a large image or a full piece is the only work at its worker. A worker
 * answers all the pieces of one pass together, so a digit beside a large image would wait
 * for the large image's decoding (bench:fair: a digit's pass took 85 ms instead of 5).
 */
const WORKER_ROOM = 20_000;

/**
 * A piece expected to hold its worker longer than this (ms, at the measured speed) is heavy:
 * a 2048x2048 JPEG always, a 2048x2048 PNG on a busy machine. While light work is arriving
 * (admitted in the last LIGHT_RECENT_MS), and for the first LIGHT_RECENT_MS of heavy work
 * after a pause (light work may be on its way), heavy pieces are kept off one worker, so that
 * a single digit never waits behind one: that worker serves the light work and stays idle
 * otherwise. Heavy work alone for longer, or one worker, and every worker takes anything.
 */
const HEAVY_MS = 60;
/** Estimated work (µs) the prior speed counts for: about two large images. */
const PRIOR_US = 100_000;
const LIGHT_RECENT_MS = 1000;

/**
 * Default bounds (scheduler.ts; seconds of the whole pool's time, as measured): a client may
 * have 10 s of work admitted (one batch of 256 full-size images takes about 6 s on two idle
 * workers here), and a request is admitted only if it should be done within 20 s, so that no
 * admitted request nears a client's 30 s timeout. 1,024 requests and 4,096 images over all
 * clients cap the memory their bodies hold (a 16 MiB body holds at most 256 images).
 */
export const DEFAULT_LIMITS: SchedulerLimits = {
  clientSeconds: 10,
  clientRequests: 64,
  waitSeconds: 20,
  totalRequests: 1024,
  totalImages: 4096,
};

export interface InferencePoolOptions {
  /** Worker threads; default: one per core. */
  readonly size?: number;
  readonly modelDir?: string;
  readonly log?: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
  /** Admission bounds; default DEFAULT_LIMITS. */
  readonly limits?: Partial<SchedulerLimits>;
  /** Work a client may send a minute; default none (the app sets it from its options). */
  readonly workBudget?: WorkBudget;
}

/**
 * The pool's lifecycle. `starting`: workers are loading the model; work is admitted and waits.
 * `ready`: every worker has loaded it once (a worker being replaced does not change that).
 * `closing`: no new work; admitted work finishes. `closed`: workers stopped.
 * `failed`: the model could not be loaded; every request is refused.
 */
export type PoolState = 'starting' | 'ready' | 'closing' | 'closed' | 'failed';

type AnyResult = WorkResult | ReadResult;

/** A request in the pool: its results fill in as its pieces come back. */
interface PoolRequest {
  /** Set once the request is admitted. */
  ticket?: Ticket;
  readonly operation: WorkOperation;
  readonly results: AnyResult[];
  readonly resolve: (results: AnyResult[]) => void;
  readonly reject: (error: Error) => void;
  done: boolean;
}

/** What a worker is handed: some consecutive inputs of one request. */
interface PieceWork {
  readonly request: PoolRequest;
  /** Index of the piece's first input in the request's results. */
  readonly offset: number;
  readonly inputs: WorkInput[];
}

interface Running {
  readonly ticket: Ticket;
  readonly piece: Piece<PieceWork>;
  heavy?: boolean;
}

class Slot {
  status: 'starting' | 'ready' | 'stopped' = 'starting';
  everReady = false;
  /** Estimated cost of the pieces at this worker. */
  load = 0;
  /** Heavy pieces at this worker. */
  heavy = 0;
  tensors = 0;
  readonly running = new Map<number, Running>();
  constructor(readonly worker: Worker) {}
}

const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** Cuts a request's inputs into pieces of at most one forward pass and PIECE_COST. */
function cut(request: PoolRequest, inputs: readonly CostedInput[]): Piece<PieceWork>[] {
  const pieces: Piece<PieceWork>[] = [];
  let start = 0;
  let cost = 0;
  const close = (end: number) => {
    if (end > start) {
      const work = { request, offset: start, inputs: inputs.slice(start, end).map((c) => c.input) };
      pieces.push({ cost, work });
    }
    start = end;
    cost = 0;
  };
  inputs.forEach((item, i) => {
    if (i > start && (i - start >= PIECE_INPUTS || cost + item.cost > PIECE_COST)) close(i);
    cost += item.cost;
  });
  close(inputs.length);
  return pieces;
}

export interface RunOptions {
  /** Who asked (the fair share and the budgets are per client); default one local client. */
  readonly client?: string;
  /** Aborted when the client goes away: its work not yet at a worker is dropped. */
  readonly signal?: AbortSignal;
  /** The request body's size, if known: teaches the scheduler the client's work per byte. */
  readonly bytes?: number;
}

export function refusalError(refusal: Refusal): ApiError {
  return new ApiError(refusal.status, refusal.code, refusal.message, refusal.retryAfter);
}

export class InferencePool {
  readonly size: number;
  private readonly modelDir?: string;
  private readonly log: NonNullable<InferencePoolOptions['log']>;
  private readonly slots = new Set<Slot>();
  private readonly scheduler: FairScheduler<PieceWork>;
  readonly ledger: WorkLedger;
  private nextId = 1;
  private current: PoolState = 'starting';
  private loadedModel?: ModelInfo;
  private failure?: string;
  private initialPending: number;
  private readonly ready: Promise<ModelInfo>;
  private settleReady!: { resolve: (info: ModelInfo) => void; reject: (err: Error) => void };
  private closed?: Promise<void>;
  private drained?: () => void;
  /**
   * Measured worker time and estimated cost, smoothed (see learnSpeed). Until the workers have
   * answered a few pieces, a prior of 100 ms of work taken twice as slow as estimated: the first
   * requests of a flood are admitted and placed as on a busy machine, not an idle one.
   */
  private measured = { actual: 2 * PRIOR_US, estimated: PRIOR_US };
  /** Measured worker time over estimated cost: 1 as estimated, 2 twice as slow. */
  private ratio = 2;
  /** When light work was last admitted (performance.now()). */
  private lastLight = -Infinity;
  /** When heavy work last started after a pause, and when a heavy piece last finished. */
  private heavySince = -Infinity;
  private lastHeavyDone = -Infinity;
  /** Requests refused before being queued, by reason (the /metrics counter). */
  readonly shed = new Map<ShedReason, number>();
  /** Images and pixels admitted since the start (the /metrics counters). */
  readonly admitted = { images: 0, pixels: 0 };
  /** Inputs the workers have answered since the start (work dropped unstarted is not). */
  recognizedInputs = 0;

  constructor(options: InferencePoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    this.modelDir = options.modelDir;
    this.log = options.log ?? silent;
    const given = Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined);
    this.scheduler = new FairScheduler<PieceWork>(
      { ...DEFAULT_LIMITS, ...Object.fromEntries(given) },
      PIECE_COST,
      (this.size * 1e6) / 2, // the prior ratio, as below
    );
    this.ledger = new WorkLedger(options.workBudget ?? { images: 0, pixels: 0 });
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
    return this.current;
  }

  get failureMessage(): string | undefined {
    return this.failure;
  }

  get model(): ModelInfo | undefined {
    return this.loadedModel;
  }

  get readyWorkers(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.status === 'ready') n++;
    return n;
  }

  /** Live tensors over all workers, as each last reported (after its latest work). */
  get liveTensors(): number {
    let n = 0;
    for (const slot of this.slots) n += slot.tensors;
    return n;
  }

  /** Images admitted and not yet recognized (waiting here or at a worker). */
  get queuedInputs(): number {
    return this.scheduler.depth.images;
  }

  get depth(): QueueDepth {
    return this.scheduler.depth;
  }

  /**
   * A refusal for `client` known before the body is read (over its share or its budget of
   * work, the server overloaded, closing or failed; or a body of `bytes` that, at the client's
   * least work per byte so far, would not fit its share); null if the request may go on.
   */
  precheck(client: string, bytes = 0): ApiError | null {
    if (this.current === 'closing' || this.current === 'closed' || this.current === 'failed') {
      this.countShed('unavailable');
      return this.unavailable();
    }
    const refusal = this.ledger.refusal(client) ?? this.scheduler.check(client, bytes);
    if (!refusal) return null;
    this.countShed(refusal.reason);
    return refusalError(refusal);
  }

  /** Counts a request refused before its work was queued (the /metrics counter). */
  countShed(reason: ShedReason): void {
    this.shed.set(reason, (this.shed.get(reason) ?? 0) + 1);
  }

  /** Recognizes every input (see run); one recognition or input error per input, in order. */
  recognize(inputs: readonly CostedInput[], options: RunOptions = {}): Promise<WorkResult[]> {
    return this.run('recognize', inputs, options);
  }

  /** Reads a number in every input (see run); one reading or input error per input, in order. */
  read(inputs: readonly CostedInput[], options: RunOptions = {}): Promise<ReadResult[]> {
    return this.run('read', inputs, options);
  }

  /**
   * Runs `operation` on every input for `client`: one result per input, in order. Refused at
   * once (ApiError 429 or 503 with `retryAfter`) if the client is over its share or budget or
   * the server is overloaded. An aborted `signal` (the client went away) drops the work not
   * yet started. A new operation plugs in here, with its costs (cost.ts) and its worker code.
   */
  run<Op extends WorkOperation>(
    operation: Op,
    inputs: readonly CostedInput[],
    options: RunOptions = {},
  ): Promise<WorkResults[Op][]> {
    const client = options.client ?? 'local';
    const early = this.precheck(client);
    if (early) return Promise.reject(early);
    let request!: PoolRequest;
    const promise = new Promise<WorkResults[Op][]>((resolve, reject) => {
      request = {
        operation,
        results: new Array<AnyResult>(inputs.length),
        // The worker answers each input with the result of the operation it was asked for.
        resolve: (results) => resolve(results as WorkResults[Op][]),
        reject,
        done: false,
      };
    });
    const pixels = inputs.reduce((sum, item) => sum + item.pixels, 0);
    const pieces = cut(request, inputs);
    const admitted = this.scheduler.admit(client, pieces, inputs.length, options.bytes);
    if (!(admitted instanceof Ticket)) {
      this.countShed(admitted.reason);
      return Promise.reject(refusalError(admitted));
    }
    request.ticket = admitted;
    if (pieces.some((piece) => !this.isHeavy(piece.cost))) this.lastLight = performance.now();
    this.ledger.charge(client, inputs.length, pixels);
    this.admitted.images += inputs.length;
    this.admitted.pixels += pixels;
    if (admitted.settled) this.complete(request);
    const { signal } = options;
    if (signal && !request.done) {
      const abort = () => this.abandon(request);
      signal.addEventListener('abort', abort, { once: true });
      const forget = () => signal.removeEventListener('abort', abort);
      promise.then(forget, forget);
    }
    this.dispatch();
    return promise;
  }

  /** The client went away: its work not yet at a worker is dropped. */
  private abandon(request: PoolRequest): void {
    if (request.done || !request.ticket) return;
    this.scheduler.cancel(request.ticket);
    this.fail(request, new ApiError(499, 'client_closed', 'the client closed the connection'));
    this.checkDrained();
  }

  private complete(request: PoolRequest): void {
    if (request.done) return;
    request.done = true;
    request.resolve(request.results);
  }

  private fail(request: PoolRequest, error: Error): void {
    if (request.done) return;
    request.done = true;
    request.reject(error);
  }

  /** Stops taking work, lets the admitted work finish, then stops the workers. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const wasStarting = this.current === 'starting';
    if (this.current !== 'failed') this.current = 'closing';
    // Work admitted while no worker is ready would wait for ever: refuse it now.
    if (wasStarting || this.readyWorkers === 0) this.dropQueued();
    if (this.depth.requests > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        this.checkDrained();
      });
    }
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
    this.slots.clear();
    if (this.current !== 'failed') this.current = 'closed';
    if (this.initialPending > 0)
      this.settleReady.reject(new Error('the pool was closed before it was ready'));
  }

  private checkDrained(): void {
    if (this.drained && this.depth.requests === 0) {
      this.drained();
      this.drained = undefined;
    }
  }

  /** Refuses every request that still has work waiting here. */
  private dropQueued(): void {
    for (const piece of this.scheduler.cancelAll())
      this.fail(piece.work.request, this.unavailable());
    this.checkDrained();
  }

  private unavailable(): ApiError {
    if (this.current === 'failed')
      return new ApiError(
        503,
        'model_unavailable',
        `the model could not be loaded: ${this.failure ?? 'unknown error'}`,
      );
    return new ApiError(503, 'not_ready', 'the server is shutting down: try again shortly');
  }

  /** Hands pieces to the least loaded ready workers while they have room. */
  private dispatch(): void {
    for (;;) {
      let best: Slot | undefined;
      for (const slot of this.slots) {
        if (slot.status === 'ready' && slot.load < WORKER_ROOM && (!best || slot.load < best.load))
          best = slot;
      }
      if (!best) return;
      const slot = best;
      const next = this.scheduler.next(
        (cost) => (slot.load === 0 || slot.load + cost <= WORKER_ROOM) && this.mayTake(slot, cost),
      );
      if (!next) return;
      this.send(slot, next);
    }
  }

  private isHeavy(cost: number): boolean {
    return (cost * this.ratio) / 1000 > HEAVY_MS;
  }

  /** Whether `slot` may take a piece of `cost` now (see HEAVY_MS). */
  private mayTake(slot: Slot, cost: number): boolean {
    if (!this.isHeavy(cost)) return true;
    const now = performance.now();
    if (now - this.lastLight > LIGHT_RECENT_MS && now - this.heavySince > LIGHT_RECENT_MS)
      return true;
    let others = 0;
    for (const other of this.slots) {
      if (other === slot || other.status !== 'ready') continue;
      others++;
      if (other.heavy === 0) return true; // another worker stays free for light work
    }
    return others === 0;
  }

  private send(slot: Slot, running: Running): void {
    const id = this.nextId++;
    const { inputs, request } = running.piece.work;
    slot.running.set(id, running);
    slot.load += running.piece.cost;
    running.heavy = this.isHeavy(running.piece.cost);
    if (running.heavy) {
      const now = performance.now();
      const paused = [...this.slots].every((other) => other.heavy === 0);
      if (paused && now - this.lastHeavyDone > LIGHT_RECENT_MS) this.heavySince = now;
      slot.heavy++;
    }
    const message: ToWorker = { type: 'recognize', id, inputs, operation: request.operation };
    // Pixel arrays move to the worker without a copy (they are not used here afterwards).
    const transfer = inputs.flatMap((input) =>
      input.kind === 'pixels'
        ? [input.pixels.buffer as ArrayBuffer]
        : input.kind === 'input'
          ? [input.input.buffer as ArrayBuffer]
          : [],
    );
    slot.worker.postMessage(message, transfer);
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
      case 'ready':
        this.onReady(slot, message.model, message.tensors);
        break;
      case 'failed':
        this.loadFailed(message.message);
        void slot.worker.terminate();
        break;
      case 'results':
        this.onResults(slot, message);
        break;
      case 'fatal':
        // The recognizer may be broken (e.g. the wasm heap aborted): replace the worker.
        this.log.error({ reason: message.message }, 'inference worker failed; replacing it');
        slot.status = 'stopped';
        void slot.worker.terminate();
        break;
    }
  }

  private onReady(slot: Slot, model: ModelInfo, tensors: number): void {
    slot.status = 'ready';
    slot.tensors = tensors;
    this.loadedModel ??= model;
    if (!slot.everReady) {
      slot.everReady = true;
      if (this.initialPending > 0 && --this.initialPending === 0) {
        this.log.info({ model, workers: this.size }, 'model loaded and warmed up');
        if (this.current === 'starting') this.current = 'ready';
        this.settleReady.resolve(model);
      }
    }
    this.dispatch();
  }

  private onResults(slot: Slot, message: Extract<FromWorker, { type: 'results' }>): void {
    slot.tensors = message.tensors;
    let estimated = 0;
    for (const { id, results } of message.answers) {
      const running = slot.running.get(id);
      if (!running) continue;
      slot.running.delete(id);
      slot.load -= running.piece.cost;
      if (running.heavy) {
        slot.heavy--;
        this.lastHeavyDone = performance.now();
      }
      estimated += running.piece.cost;
      const { request, offset } = running.piece.work;
      this.recognizedInputs += results.length;
      results.forEach((result, i) => (request.results[offset + i] = result));
      this.scheduler.finish(running.ticket, running.piece);
      if (running.ticket.settled) this.complete(request);
    }
    this.learnSpeed(message.ms * 1000, estimated);
    this.checkDrained();
    this.dispatch();
  }

  /**
   * Corrects the scheduler's speed by what the workers measure: the estimates in cost.ts are
   * for this machine unloaded, and a loaded machine (or a slower one) takes longer. The sums
   * decay, so the last few hundred passes count.
   */
  private learnSpeed(actualUs: number, estimated: number): void {
    if (estimated <= 0) return;
    const decay = 0.98;
    this.measured.actual = this.measured.actual * decay + actualUs;
    this.measured.estimated = this.measured.estimated * decay + estimated;
    this.ratio = Math.min(20, Math.max(0.2, this.measured.actual / this.measured.estimated));
    this.scheduler.speed = (this.size * 1e6) / this.ratio;
  }

  private loadFailed(reason: string): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    this.current = 'failed';
    this.log.error({ reason }, 'the model could not be loaded');
    this.settleReady.reject(new Error(`the model could not be loaded: ${reason}`));
    this.dropQueued();
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.delete(slot);
    slot.status = 'stopped';
    for (const running of slot.running.values()) {
      this.scheduler.finish(running.ticket, running.piece);
      const { request } = running.piece.work;
      if (!request.done && request.ticket) this.scheduler.cancel(request.ticket);
      this.fail(
        request,
        new ApiError(
          500,
          'internal_error',
          'the recognizer stopped while handling this request and is being restarted: try again',
        ),
      );
    }
    slot.running.clear();
    this.checkDrained();
    if (this.current === 'closing' || this.current === 'closed' || this.current === 'failed') {
      if (this.slots.size === 0) this.dropQueued();
      return;
    }
    if (!slot.everReady) {
      // It never loaded the model: starting another would fail the same way.
      this.loadFailed(`an inference worker exited with code ${code} while loading the model`);
      return;
    }
    this.log.warn({ code }, 'inference worker exited; starting a new one');
    this.spawn();
  }
}
