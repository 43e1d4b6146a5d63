/**
 * Data-parallel training over several wasm replicas (one per core): each computes gradients
 * on a slice of the batch, the coordinator averages them, and every replica applies the same
 * update. The wasm backend is single-threaded in Node, so this is how training uses both cores.
 */
import type { Worker } from 'node:worker_threads';
import type { ArchitectureConfig } from '../model/architecture.ts';
import { splitBatch, type Batch } from './batches.ts';
import type { FromReplica, ReplicaState, ToReplica } from './protocol.ts';
import { startTsWorker } from '../node/ts-worker.ts';

/** What every replica may answer: its reply, or the error that stopped it. */
type Message = { type: string; message?: string };

/**
 * One training thread running `script`, answering each request in order (the digit model's
 * replica-worker.ts, the line model's line-replica-worker.ts).
 */
export class Replica<To, From extends Message> {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (m: From) => void; reject: (e: Error) => void }[] = [];

  constructor(script: URL) {
    this.worker = startTsWorker(script);
    this.worker.on('message', (msg: From) => {
      const next = this.waiting.shift();
      if (!next) return;
      if (msg.type === 'error') next.reject(new Error(`training replica failed: ${msg.message}`));
      else next.resolve(msg);
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`training replica exited (${code})`)));
  }

  private failAll(err: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  post(msg: To, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  request<T extends From['type']>(
    msg: To,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<From, { type: T }>> {
    const reply = new Promise<From>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.post(msg, transfer);
    return reply as Promise<Extract<From, { type: T }>>;
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

export interface StepResult {
  readonly loss: number;
  readonly correct: number;
  readonly count: number;
}

/**
 * The batch's mean gradient from the replicas' replies: each is its own slice's mean, weighted
 * here by the slice's size.
 */
export function averageGradients(
  replies: readonly { gradients: Float32Array; count: number }[],
): Float32Array {
  const total = replies.reduce((n, r) => n + r.count, 0);
  const mean = new Float32Array(replies[0].gradients.length);
  for (const r of replies) {
    const w = r.count / total;
    for (let i = 0; i < mean.length; i++) mean[i] += r.gradients[i] * w;
  }
  return mean;
}

type DigitReplica = Replica<ToReplica, FromReplica>;

export class Replicas {
  private constructor(
    private readonly replicas: DigitReplica[],
    readonly params: number,
  ) {}

  /**
   * Starts `count` replicas with identical weights: fresh from `seed`, or from `state`. With
   * `averageDecay`, each also keeps a moving average of the weights at that decay per step.
   */
  static async start(
    count: number,
    architecture: ArchitectureConfig,
    seed: number,
    state: ReplicaState | null,
    averageDecay: number | null = null,
  ): Promise<Replicas> {
    const script = new URL('./replica-worker.ts', import.meta.url);
    const replicas = Array.from(
      { length: Math.max(1, count) },
      (): DigitReplica => new Replica(script),
    );
    const init = (r: DigitReplica, from: ReplicaState | null) =>
      r.request<'ready'>({ type: 'init', architecture, seed, state: from, averageDecay });
    try {
      const first = await init(replicas[0], state);
      const shared = state ?? (await replicas[0].request<'state'>({ type: 'state' })).state;
      await Promise.all(replicas.slice(1).map((r) => init(r, shared)));
      return new Replicas(replicas, first.params);
    } catch (err) {
      await Promise.all(replicas.map((r) => r.close()));
      throw err;
    }
  }

  get size(): number {
    return this.replicas.length;
  }

  /**
   * One optimisation step on `batch`, the `step`-th of the run (0-based); returns the batch's
   * mean loss and correct count.
   */
  async step(batch: Batch, learningRate: number, step: number): Promise<StepResult> {
    const parts = splitBatch(batch, this.replicas.length);
    const replies = await Promise.all(
      parts.map((part, i) =>
        this.replicas[i].request<'gradients'>(
          { type: 'gradients', images: part.images, labels: part.labels, count: part.count },
          [part.images.buffer as ArrayBuffer, part.labels.buffer as ArrayBuffer],
        ),
      ),
    );
    const mean = averageGradients(replies);
    for (const r of this.replicas) r.post({ type: 'apply', gradients: mean, learningRate, step });
    return {
      loss: replies.reduce((s, r) => s + r.loss * r.count, 0) / batch.count,
      correct: replies.reduce((s, r) => s + r.correct, 0),
      count: batch.count,
    };
  }

  /**
   * Class probabilities (count x classes) for plain images, the work shared by all replicas; with
   * `averaged`, from the weights' moving average rather than the trained weights.
   */
  async predict(images: Float32Array, count: number, averaged = false): Promise<Float32Array> {
    const batch: Batch = { images, labels: new Uint8Array(count), count };
    const parts = splitBatch(batch, this.replicas.length);
    const replies = await Promise.all(
      parts.map((part, i) =>
        this.replicas[i].request<'predict'>(
          { type: 'predict', images: part.images, count: part.count, averaged },
          [part.images.buffer as ArrayBuffer],
        ),
      ),
    );
    const out = new Float32Array(replies.reduce((n, r) => n + r.probabilities.length, 0));
    let offset = 0;
    for (const r of replies) {
      out.set(r.probabilities, offset);
      offset += r.probabilities.length;
    }
    return out;
  }

  /** Weights and optimizer state of the (identical) replicas. */
  async state(): Promise<ReplicaState> {
    return (await this.replicas[0].request<'state'>({ type: 'state' })).state;
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
  }
}
