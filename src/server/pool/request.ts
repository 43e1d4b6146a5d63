/**
 * A request in the inference pool, cut into pieces of at most one forward pass, and its one
 * outcome: `waiting` (admitted, no piece at a worker yet), `running`, then `done`, `failed`
 * (a worker died with its piece, or the pool cannot serve it) or `abandoned` (its client went
 * away). Whatever happens after the outcome is reached (a late answer, a second failure) is
 * ignored here, so the pool need not ask.
 */
import type { CostedInput } from '../cost.ts';
import { ApiError } from '../errors.ts';
import type { ReadResult, WorkInput, WorkOperation, WorkResult } from '../inference-protocol.ts';
import type { Piece } from '../scheduler.ts';

export type Outcome = 'waiting' | 'running' | 'done' | 'failed' | 'abandoned';

export type AnyResult = WorkResult | ReadResult;

export class PoolRequest {
  private current: Outcome = 'waiting';
  private unanswered = 0;
  private readonly results: AnyResult[];
  private settle!: { resolve: (results: AnyResult[]) => void; reject: (error: Error) => void };
  /** One result per input, in order; rejected with the reason of any other outcome. */
  readonly answer: Promise<AnyResult[]>;

  constructor(
    readonly operation: WorkOperation,
    inputs: number,
  ) {
    this.results = new Array<AnyResult>(inputs);
    this.answer = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  get outcome(): Outcome {
    return this.current;
  }

  get over(): boolean {
    return this.current !== 'waiting' && this.current !== 'running';
  }

  /** Admitted with `pieces` pieces: done at once if there are none. */
  admitted(pieces: number): void {
    this.unanswered = pieces;
    if (pieces === 0) this.end('done');
  }

  /** One of its pieces went to a worker. */
  started(): void {
    if (this.current === 'waiting') this.current = 'running';
  }

  /** A piece's results, the first at `offset`; the last piece answered makes it done. */
  answered(offset: number, results: readonly AnyResult[]): void {
    if (this.over) return;
    results.forEach((result, i) => (this.results[offset + i] = result));
    if (--this.unanswered === 0) this.end('done');
  }

  /** Fails it unless it is over; true if this ended it. */
  fail(error: Error): boolean {
    return this.end('failed', error);
  }

  /** Its client went away: abandoned unless it is over; true if this ended it. */
  abandon(): boolean {
    return this.end(
      'abandoned',
      new ApiError(499, 'client_closed', 'the client closed the connection'),
    );
  }

  private end(outcome: 'done' | 'failed' | 'abandoned', error?: Error): boolean {
    if (this.over) return false;
    this.current = outcome;
    if (error) this.settle.reject(error);
    else this.settle.resolve(this.results);
    return true;
  }
}

/** What a worker is handed: some consecutive inputs of one request. */
export interface PieceWork {
  readonly request: PoolRequest;
  /** Index of the piece's first input in the request's results. */
  readonly offset: number;
  readonly inputs: WorkInput[];
}

/** Inputs per piece: the worker's forward-pass size (inference-worker.ts, MAX_PASS_INPUTS). */
const PIECE_INPUTS = 16;
/**
 * Estimated work per piece (µs): 16 canvas snapshots, or one large image. It is also how long
 * another client's work may wait for a busy worker, so it stays well under the 150 ms a
 * single digit may take under load (issue 14).
 */
export const PIECE_COST = 50_000;

/** Cuts a request's inputs into pieces of at most PIECE_INPUTS and PIECE_COST. */
export function cut(request: PoolRequest, inputs: readonly CostedInput[]): Piece<PieceWork>[] {
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
