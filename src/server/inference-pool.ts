/**
 * A pool of inference workers, each with its own wasm recognizer, so recognition runs off
 * the event loop on every core. A small pool of our own rather than piscina: we need to know
 * when every worker has loaded the model (/healthz), each worker's live tensors (/metrics),
 * to replace a worker whose recognizer failed, and to choose which client's work goes next,
 * none of which piscina exposes.
 *
 * Work waits on the main thread, in the fair scheduler (scheduler.ts), cut into pieces of at
 * most one forward pass (pool/request.ts); a worker is handed the next piece only when
 * placement (pool/placement.ts) lets it take one. The real queue is therefore here, where it
 * is fair and bounded, not inside the workers, and a worker still batches the few pieces it
 * holds into one forward pass. The workers' lifecycle is pool/workers.ts; their measured speed,
 * pool/speed.ts.
 */
import { availableParallelism } from 'node:os';
import type { ModelInfo } from '../recognizer/recognizer.ts';
import type { CostedInput } from './cost.ts';
import { ApiError } from './errors.ts';
import type { ReadResult, WorkOperation, WorkResult, WorkResults } from './inference-protocol.ts';
import { isHeavy, placement, RecentTraffic, type WorkerLoad } from './pool/placement.ts';
import { cut, PIECE_COST, PoolRequest, type PieceWork } from './pool/request.ts';
import { Speed } from './pool/speed.ts';
import {
  inferenceWorkers,
  type Log,
  type PoolState,
  type PoolWorker,
  type ResultsMessage,
  type StartWorker,
  Workers,
} from './pool/workers.ts';
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
  readonly log?: Log;
  /** Admission bounds; default DEFAULT_LIMITS. */
  readonly limits?: Partial<SchedulerLimits>;
  /** Work a client may send a minute; default none (the app sets it from its options). */
  readonly workBudget?: WorkBudget;
  /** Starts a worker thread; default the inference worker loading `modelDir` (tests: fakes). */
  readonly startWorker?: StartWorker;
  /** The clock placement reads (ms); default performance.now. */
  readonly now?: () => number;
}

export interface RunOptions {
  /** Who asked (the fair share and the budgets are per client); default one local client. */
  readonly client?: string;
  /** Aborted when the client goes away: its work not yet at a worker is dropped. */
  readonly signal?: AbortSignal;
  /** The request body's size, if known: teaches the scheduler the client's work per byte. */
  readonly bytes?: number;
}

/** A piece at a worker. */
interface Running {
  readonly ticket: Ticket;
  readonly piece: Piece<PieceWork>;
  /** Heavy when it was placed (placement.ts), whatever the speed measured since. */
  readonly heavy: boolean;
}

const silent: Log = { info: () => {}, warn: () => {}, error: () => {} };

function refusalError(refusal: Refusal): ApiError {
  return new ApiError(refusal.status, refusal.code, refusal.message, refusal.retryAfter);
}

function loadOf(worker: PoolWorker<Running>): WorkerLoad {
  let cost = 0;
  let heavy = 0;
  for (const running of worker.running.values()) {
    cost += running.piece.cost;
    if (running.heavy) heavy++;
  }
  return { cost, heavy };
}

/** Pixel arrays move to the worker without a copy (they are not used here afterwards). */
function transferOf(work: PieceWork): ArrayBuffer[] {
  return work.inputs.flatMap((input) =>
    input.kind === 'pixels'
      ? [input.pixels.buffer as ArrayBuffer]
      : input.kind === 'input'
        ? [input.input.buffer as ArrayBuffer]
        : [],
  );
}

export class InferencePool {
  readonly size: number;
  readonly ledger: WorkLedger;
  /** Requests refused before being queued, by reason (the /metrics counter). */
  readonly shed = new Map<ShedReason, number>();
  /** Images and pixels admitted since the start (the /metrics counters). */
  readonly admitted = { images: 0, pixels: 0 };
  /** Inputs the workers have answered since the start (work dropped unstarted is not). */
  recognizedInputs = 0;
  private readonly workers: Workers<Running>;
  private readonly scheduler: FairScheduler<PieceWork>;
  private readonly speed: Speed;
  private readonly traffic = new RecentTraffic();
  private readonly now: () => number;
  private closed?: Promise<void>;
  private drained?: () => void;

  constructor(options: InferencePoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    this.now = options.now ?? (() => performance.now());
    this.speed = new Speed(this.size);
    const given = Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined);
    this.scheduler = new FairScheduler<PieceWork>(
      { ...DEFAULT_LIMITS, ...Object.fromEntries(given) },
      PIECE_COST,
      this.speed,
    );
    this.ledger = new WorkLedger(options.workBudget ?? { images: 0, pixels: 0 });
    this.workers = new Workers<Running>(
      this.size,
      options.startWorker ?? inferenceWorkers(options.modelDir),
      options.log ?? silent,
      {
        ready: () => this.dispatch(),
        results: (worker, message) => this.onResults(worker, message),
        exited: (lost) => this.onExited(lost),
        failed: () => this.dropQueued(),
      },
    );
  }

  /** Resolves once every worker has loaded and warmed up the model; rejects if loading failed. */
  whenReady(): Promise<ModelInfo> {
    return this.workers.whenReady();
  }

  get state(): PoolState {
    return this.workers.state;
  }

  get failureMessage(): string | undefined {
    return this.workers.failureMessage;
  }

  get model(): ModelInfo | undefined {
    return this.workers.model;
  }

  get readyWorkers(): number {
    return this.workers.available.length;
  }

  /** Live tensors over all workers, as each last reported (after its latest work). */
  get liveTensors(): number {
    return this.workers.alive.reduce((sum, worker) => sum + worker.tensors, 0);
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
    if (!this.workers.open) {
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
    const request = new PoolRequest(operation, inputs.length);
    const pieces = cut(request, inputs);
    const ticket = this.scheduler.admit(client, pieces, inputs.length, options.bytes);
    if (!(ticket instanceof Ticket)) {
      this.countShed(ticket.reason);
      return Promise.reject(refusalError(ticket));
    }
    request.admitted(pieces.length);
    this.count(client, inputs, pieces);
    this.abandonOnAbort(request, ticket, options.signal);
    this.dispatch();
    // The worker answers each input with the result of the operation it was asked for.
    return request.answer as Promise<WorkResults[Op][]>;
  }

  /** Counts admitted work: in the client's budget, in /metrics, and as light work if it is. */
  private count(client: string, inputs: readonly CostedInput[], pieces: Piece<PieceWork>[]): void {
    const pixels = inputs.reduce((sum, item) => sum + item.pixels, 0);
    this.ledger.charge(client, inputs.length, pixels);
    this.admitted.images += inputs.length;
    this.admitted.pixels += pixels;
    if (pieces.some((piece) => !isHeavy(piece.cost, this.speed.slowdown)))
      this.traffic.light(this.now());
  }

  /** The client went away (`signal`): the request's work not yet at a worker is dropped. */
  private abandonOnAbort(request: PoolRequest, ticket: Ticket, signal?: AbortSignal): void {
    if (!signal || request.over) return;
    const abandon = () => {
      if (!request.abandon()) return;
      this.scheduler.cancel(ticket);
      this.checkDrained();
    };
    signal.addEventListener('abort', abandon, { once: true });
    const forget = () => signal.removeEventListener('abort', abandon);
    request.answer.then(forget, forget);
  }

  /** Stops taking work, lets the admitted work finish, then stops the workers. */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const wasStarting = this.workers.state === 'starting';
    this.workers.closing();
    // Work admitted while no worker is ready would wait for ever: refuse it now.
    if (wasStarting || this.readyWorkers === 0) this.dropQueued();
    if (this.depth.requests > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        this.checkDrained();
      });
    }
    await this.workers.terminate();
  }

  private checkDrained(): void {
    if (this.drained && this.depth.requests === 0) {
      this.drained();
      this.drained = undefined;
    }
  }

  /** Refuses every request that still has work waiting here. */
  private dropQueued(): void {
    for (const piece of this.scheduler.cancelAll()) piece.work.request.fail(this.unavailable());
    this.checkDrained();
  }

  private unavailable(): ApiError {
    if (this.workers.state === 'failed')
      return new ApiError(
        503,
        'model_unavailable',
        `the model could not be loaded: ${this.workers.failureMessage ?? 'unknown error'}`,
      );
    return new ApiError(503, 'not_ready', 'the server is shutting down: try again shortly');
  }

  /** Hands pieces to workers while placement lets one take the piece the scheduler offers. */
  private dispatch(): void {
    for (;;) {
      const workers = this.workers.available;
      const loads = workers.map(loadOf);
      const now = this.now();
      const slowdown = this.speed.slowdown;
      const place = (cost: number) => placement(loads, cost, now, slowdown, this.traffic);
      const next = this.scheduler.next((cost) => place(cost) !== undefined);
      if (!next) return;
      this.send(workers[place(next.piece.cost) as number], next, now);
    }
  }

  private send(worker: PoolWorker<Running>, next: Omit<Running, 'heavy'>, now: number): void {
    const heavy = isHeavy(next.piece.cost, this.speed.slowdown);
    if (heavy) {
      const alone = this.workers.alive.every((other) => loadOf(other).heavy === 0);
      this.traffic.heavyStarts(now, alone);
    }
    const { request, inputs } = next.piece.work;
    request.started();
    this.workers.send(
      worker,
      { ...next, heavy },
      (id) => ({ type: 'recognize', id, inputs, operation: request.operation }),
      transferOf(next.piece.work),
    );
  }

  private onResults(worker: PoolWorker<Running>, message: ResultsMessage): void {
    let estimated = 0;
    for (const { id, results } of message.answers) {
      const running = this.workers.take(worker, id);
      if (!running) continue;
      if (running.heavy) this.traffic.heavyEnds(this.now());
      estimated += running.piece.cost;
      this.recognizedInputs += results.length;
      this.scheduler.finish(running.ticket, running.piece);
      running.piece.work.request.answered(running.piece.work.offset, results);
    }
    this.speed.learn(message.ms * 1000, estimated);
    this.checkDrained();
    this.dispatch();
  }

  /** A worker exited: the requests it held fail, and their work still waiting is dropped. */
  private onExited(lost: readonly Running[]): void {
    for (const { ticket, piece } of lost) {
      this.scheduler.finish(ticket, piece);
      const failure = new ApiError(
        500,
        'internal_error',
        'the recognizer stopped while handling this request and is being restarted: try again',
      );
      if (piece.work.request.fail(failure)) this.scheduler.cancel(ticket);
    }
    this.checkDrained();
    if (!this.workers.open && this.workers.alive.length === 0) this.dropQueued();
  }
}
