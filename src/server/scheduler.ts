/**
 * Fair sharing of the inference workers across clients, on the main thread: a request is
 * admitted whole or refused at once, its work waits here cut into pieces, and the next piece
 * for a worker with room is picked by deficit round-robin over the clients that have work
 * waiting, by cost (estimated worker microseconds, see cost.ts). A client with a thousand
 * large images queued therefore delays another client's single digit by one piece, not by
 * its whole backlog; two busy clients get the same share of worker time whatever their
 * request sizes.
 *
 * Work is generic (`T`): recognition, reading a number, or any later operation plugs in
 * with its pieces and their costs. Bounds keep every wait short and memory bounded:
 * - a client with work admitted may add a request only while all of it takes at most
 *   `clientSeconds` of the pool (429 beyond: it is the heavy client that waits, at its own
 *   door); with nothing admitted it may send one request up to `waitSeconds`;
 * - a request is admitted only if it should be done within `waitSeconds`, counting that it
 *   shares the pool with the other clients that have work: a request that would not is
 *   refused, 429 if its own client's backlog is the reason, 503 `overloaded` otherwise (the
 *   other clients' work, or a batch too large for the server's speed now: split it);
 * - requests and images admitted over all clients are capped (503 beyond): the bodies they
 *   hold are what the server's memory pays for.
 * Seconds come from the speed the pool measures, so the bounds hold on a slow or busy
 * machine too. A client with work admitted is also refused before its body is read when the
 * body's declared size, at the least work per byte its own requests have carried, would not
 * fit its share: a client that keeps resending a batch too large for what is left of its
 * share costs the server no reading, parsing and validating of megabytes it would refuse. A small request from a client with nothing waiting passes every bound until
 * the caps on requests and images: a flood cannot shut a light client out.
 */
import type { PoolSpeed } from './pool/speed.ts';

/** Why a request was refused before it was queued (the shed-request metric's label). */
export type ShedReason = 'client_share' | 'overloaded' | 'work_rate' | 'unavailable';

export interface Refusal {
  readonly status: 429 | 503;
  readonly code: 'rate_limited' | 'overloaded';
  readonly reason: ShedReason;
  readonly message: string;
  /** Whole seconds after which a retry has a fair chance (the Retry-After header). */
  readonly retryAfter: number;
}

export interface SchedulerLimits {
  /** Seconds of the pool's time a client's admitted, unfinished work may take before it gets 429. */
  readonly clientSeconds: number;
  /** Admitted, unfinished requests per client (429 beyond). */
  readonly clientRequests: number;
  /** Longest estimated time to finish a new request, sharing the pool fairly (refused beyond). */
  readonly waitSeconds: number;
  /** Admitted, unfinished requests over all clients (503 beyond). */
  readonly totalRequests: number;
  /** Images of the admitted, unfinished requests over all clients (503 beyond). */
  readonly totalImages: number;
}

export interface Piece<T> {
  /** Estimated microseconds of one worker's time. */
  readonly cost: number;
  readonly work: T;
}

/**
 * An admitted request as the queue counts it: its pieces, some waiting here, some at a worker,
 * some done. Its outcome is the pool's (pool/request.ts); here it only holds its share of the
 * bounds until none of its pieces is waiting or at a worker (`settled`).
 */
export class Ticket {
  /** Pieces not yet handed to a worker. */
  queued = 0;
  /** Pieces at a worker. */
  running = 0;
  constructor(
    readonly client: string,
    readonly cost: number,
    readonly images: number,
  ) {}
  get settled(): boolean {
    return this.queued === 0 && this.running === 0;
  }
}

/** A piece waiting for a worker, with the request it belongs to. */
interface QueuedPiece<T> {
  readonly ticket: Ticket;
  readonly piece: Piece<T>;
}

class ClientState<T> {
  /** Pieces waiting, oldest first (its requests in arrival order). */
  readonly waiting: QueuedPiece<T>[] = [];
  /** Cost of the pieces admitted and not finished (waiting and running). */
  cost = 0;
  /** Admitted requests not yet settled. */
  requests = 0;
  /**
   * The least estimated cost per body byte of this client's requests (admitted, or refused
   * for its share once read); undefined until one had a declared size.
   */
  costPerByte?: number;
  /** Deficit round-robin: the cost this client may still send in its current turn. */
  deficit = 0;
  inTurn = false;
  constructor(readonly key: string) {}
}

export interface QueueDepth {
  /** Admitted requests not yet answered. */
  readonly requests: number;
  /** Their pieces waiting for a worker. */
  readonly pieces: number;
  /** Images of the admitted requests not yet finished. */
  readonly images: number;
  /** Seconds of the pool's time the admitted, unfinished work is estimated to take. */
  readonly seconds: number;
  /** Clients with admitted work. */
  readonly clients: number;
}

/** Keeps the least work per byte a client's requests carried (see check). */
function learn(state: { costPerByte?: number }, perByte: number | undefined): void {
  if (perByte !== undefined) state.costPerByte = Math.min(state.costPerByte ?? perByte, perByte);
}

const retryAfter = (seconds: number) => Math.max(1, Math.min(60, Math.ceil(seconds)));

export class FairScheduler<T> {
  private readonly clients = new Map<string, ClientState<T>>();
  /** Clients with pieces waiting, in round-robin order; `cursor` is the one whose turn it is. */
  private readonly ring: ClientState<T>[] = [];
  private cursor = 0;
  private totalCost = 0;
  private totalRequests = 0;
  private totalImages = 0;
  private waitingPieces = 0;

  /**
   * @param quantum cost added to a client's deficit each turn: at least the largest piece, so
   *   every turn sends something.
   * @param speed the cost the pool gets through per second, as the pool measures it (read at
   *   every use, never written here).
   */
  constructor(
    private readonly limits: SchedulerLimits,
    private readonly quantum: number,
    private readonly speed: PoolSpeed,
  ) {}

  private seconds(cost: number): number {
    return cost / this.speed.costPerSecond;
  }

  /**
   * Whether a request from `client` would be refused, checked before its body is read, so
   * that a client over its share costs the server no parsing: whatever its size, or, given
   * the body's declared `bytes`, at the least work per byte the client's requests carried.
   */
  check(client: string, bytes = 0): Refusal | null {
    const state = this.clients.get(client);
    if (state) {
      const seconds = this.seconds(state.cost);
      if (seconds >= this.limits.clientSeconds || state.requests >= this.limits.clientRequests) {
        return this.clientShare(state, seconds);
      }
      const expected = bytes * (state.costPerByte ?? 0);
      if (state.cost > 0 && this.seconds(state.cost + expected) > this.limits.clientSeconds) {
        return this.clientShare(state, seconds);
      }
    }
    if (
      this.totalRequests >= this.limits.totalRequests ||
      this.totalImages >= this.limits.totalImages
    ) {
      return this.overloaded(
        `${this.totalRequests} requests of ${this.totalImages} images waiting`,
      );
    }
    return null;
  }

  private clientShare(state: ClientState<T>, seconds: number): Refusal {
    return {
      status: 429,
      code: 'rate_limited',
      reason: 'client_share',
      message: `this client already has ${state.requests} request(s) waiting, about ${seconds.toFixed(1)} s of the server's work (at most ${this.limits.clientSeconds} s a client): wait for their answers before sending more`,
      retryAfter: retryAfter(seconds),
    };
  }

  private overloaded(what: string): Refusal {
    return {
      status: 503,
      code: 'overloaded',
      reason: 'overloaded',
      message: `the server is overloaded (${what}): retry later`,
      retryAfter: retryAfter(this.seconds(this.totalCost) / Math.max(1, this.clients.size)),
    };
  }

  /**
   * Admits a request whole and queues its pieces, or refuses it (see the bounds above).
   * `bytes`: its body's size, from which the client's work per byte is learnt (0: unknown).
   */
  admit(client: string, pieces: readonly Piece<T>[], images: number, bytes = 0): Ticket | Refusal {
    const refusal = this.check(client);
    if (refusal) return refusal;
    if (this.totalImages + images > this.limits.totalImages && this.totalRequests > 0) {
      return this.overloaded(`${this.totalImages} images waiting`);
    }
    const cost = pieces.reduce((sum, piece) => sum + piece.cost, 0);
    const perByte = bytes > 0 ? cost / bytes : undefined;
    let state = this.clients.get(client);
    const backlog = state?.cost ?? 0;
    // A client with work waiting adds only what keeps it within its share.
    if (state && backlog > 0 && this.seconds(backlog + cost) > this.limits.clientSeconds) {
      learn(state, perByte);
      return this.clientShare(state, this.seconds(backlog));
    }
    const wait = this.seconds(this.sharedCost(state, backlog + cost));
    if (wait > this.limits.waitSeconds) {
      if (state && backlog > 0) {
        learn(state, perByte);
        return this.clientShare(state, this.seconds(backlog));
      }
      const own = this.seconds(cost);
      return this.overloaded(
        own > this.limits.waitSeconds
          ? `this request alone would take about ${own.toFixed(1)} s at the server's speed now, over ${this.limits.waitSeconds} s: split it into smaller batches`
          : `about ${wait.toFixed(1)} s to serve this request beside ${this.clients.size} other clients' work`,
      );
    }
    const ticket = new Ticket(client, cost, images);
    if (!state) {
      state = new ClientState<T>(client);
      this.clients.set(client, state);
    }
    learn(state, perByte);
    if (pieces.length > 0 && state.waiting.length === 0) this.join(state);
    for (const piece of pieces) state.waiting.push({ ticket, piece });
    ticket.queued = pieces.length;
    state.cost += cost;
    state.requests++;
    this.totalCost += cost;
    this.totalRequests++;
    this.totalImages += images;
    this.waitingPieces += pieces.length;
    if (pieces.length === 0) this.settle(state, ticket);
    return ticket;
  }

  /**
   * The pool's work done before `own` (a client's backlog and its new request) is finished,
   * sharing fairly: every other client gets as much as `own`, or all it has if less.
   */
  private sharedCost(self: ClientState<T> | undefined, own: number): number {
    let total = own;
    for (const other of this.clients.values()) {
      if (other !== self) total += Math.min(other.cost, own);
    }
    return total;
  }

  /** A client with new work joins the ring last in the current round. */
  private join(state: ClientState<T>): void {
    state.deficit = 0;
    state.inTurn = false;
    this.ring.splice(this.cursor, 0, state);
    if (this.ring.length > 1) this.cursor++;
  }

  private leave(index: number): void {
    this.ring.splice(index, 1);
    if (index < this.cursor) this.cursor--;
    if (this.cursor >= this.ring.length) this.cursor = 0;
  }

  /**
   * The next piece to hand to a worker (deficit round-robin by cost), or undefined. `fits`
   * tells which costs the worker may take now: a client whose next piece does not fit keeps
   * its credit and its place, and the turn goes to the next client.
   */
  next(
    fits: (cost: number) => boolean = () => true,
  ): { ticket: Ticket; piece: Piece<T> } | undefined {
    let unfit = 0; // clients passed in a row because their next piece does not fit
    while (this.ring.length > 0 && unfit < this.ring.length) {
      const state = this.ring[this.cursor];
      const head = state.waiting[0];
      if (!fits(head.piece.cost)) {
        unfit++;
        this.cursor = (this.cursor + 1) % this.ring.length;
        continue;
      }
      unfit = 0;
      if (!state.inTurn) {
        state.inTurn = true;
        state.deficit += this.quantum;
      }
      if (head.piece.cost <= state.deficit) {
        state.waiting.shift();
        state.deficit -= head.piece.cost;
        head.ticket.queued--;
        head.ticket.running++;
        this.waitingPieces--;
        if (state.waiting.length === 0) {
          // A client with nothing waiting keeps no credit (classic DRR).
          state.deficit = 0;
          state.inTurn = false;
          this.leave(this.cursor);
        }
        return head;
      }
      state.inTurn = false;
      this.cursor = (this.cursor + 1) % this.ring.length;
    }
    return undefined;
  }

  /** A piece handed out by next() is finished (answered or failed): its cost is released. */
  finish(ticket: Ticket, piece: Piece<T>): void {
    ticket.running--;
    const state = this.clients.get(ticket.client);
    if (!state) return;
    this.release(state, piece.cost);
    if (ticket.settled) this.settle(state, ticket);
  }

  /**
   * Drops the pieces of `ticket` still waiting (its client went away, or the pool is
   * closing); pieces at a worker finish as usual. Returns how many were dropped.
   */
  cancel(ticket: Ticket): number {
    const state = this.clients.get(ticket.client);
    if (!state || ticket.queued === 0) return 0;
    const kept = state.waiting.filter((queued) => queued.ticket !== ticket);
    let dropped = 0;
    for (const queued of state.waiting) {
      if (queued.ticket !== ticket) continue;
      dropped++;
      this.release(state, queued.piece.cost);
    }
    state.waiting.splice(0, state.waiting.length, ...kept);
    ticket.queued = 0;
    this.waitingPieces -= dropped;
    if (state.waiting.length === 0) {
      const index = this.ring.indexOf(state);
      if (index >= 0) this.leave(index);
      state.deficit = 0;
      state.inTurn = false;
    }
    if (ticket.settled) this.settle(state, ticket);
    return dropped;
  }

  /** Cancels every request with pieces waiting (the pool is closing or failed); returns those pieces. */
  cancelAll(): Piece<T>[] {
    const pieces: Piece<T>[] = [];
    const tickets = new Set<Ticket>();
    for (const state of this.ring) {
      for (const queued of state.waiting) {
        pieces.push(queued.piece);
        tickets.add(queued.ticket);
      }
    }
    for (const ticket of tickets) this.cancel(ticket);
    return pieces;
  }

  private release(state: ClientState<T>, cost: number): void {
    state.cost -= cost;
    this.totalCost -= cost;
  }

  private settle(state: ClientState<T>, ticket: Ticket): void {
    state.requests--;
    this.totalRequests--;
    this.totalImages -= ticket.images;
    if (state.requests === 0) {
      // Rounding may leave a crumb of cost; a client with nothing admitted owes nothing.
      this.totalCost -= state.cost;
      this.clients.delete(state.key);
    }
    if (this.totalRequests === 0) this.totalCost = 0;
  }

  get depth(): QueueDepth {
    return {
      requests: this.totalRequests,
      pieces: this.waitingPieces,
      images: this.totalImages,
      seconds: this.seconds(this.totalCost),
      clients: this.clients.size,
    };
  }
}
