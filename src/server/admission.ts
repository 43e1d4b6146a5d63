/**
 * Who a client is, and the checks a request of work passes before its body is even read.
 * A client is the rate limiter's key: its address, or behind a proxy that `trustProxy`
 * trusts, the forwarded address (Fastify's `request.ip`). A client over its share of the
 * queue (or whose body, by its declared size, would not fit it), over its budget of work,
 * already sending a large upload, or a server that is overloaded (its queue full, or its
 * event loop lagging) is answered 429/503 with
 * Retry-After at once: a refused request costs no JSON parsing, so refusing a flood stays
 * cheap for the event loop that answers everyone else. Its upload is then read to the end
 * and dropped, paced, so that the client gets the answer (see admissionHook).
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { ApiError } from './errors.ts';
import type { InferencePool } from './inference-pool.ts';

export function clientOf(request: FastifyRequest): string {
  return request.ip;
}

/** The body's declared size (Content-Length); 0 when not declared (chunked or none). */
export function declaredBytes(request: FastifyRequest): number {
  const length = Number(request.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0 ? length : 0;
}

/**
 * The rest of refused uploads is read at most this fast over all of them (bytes a second).
 * Reading costs the event loop that answers everyone, mostly in garbage collection of the
 * chunks read: about half a millisecond a megabyte here (bench:fair), so this bounds it to
 * about 2% of the event loop whatever a flood sends, while a refused 16 MiB body alone
 * still drains in half a second. Its answer has long been sent by then.
 */
const DISCARD_BYTES_PER_SECOND = 32 * 1024 * 1024;
/** What may be read at once before the rate applies: a tenth of a second's worth. */
const DISCARD_BURST = DISCARD_BYTES_PER_SECOND / 10;

/** A token bucket shared by every refused upload of one server (one per pool). */
class DiscardBudget {
  private balance = DISCARD_BURST;
  private last = performance.now();

  /** Takes `bytes`; returns how long (ms) the reader should pause to stay within the rate. */
  take(bytes: number): number {
    const now = performance.now();
    const refill = ((now - this.last) / 1000) * DISCARD_BYTES_PER_SECOND;
    this.balance = Math.min(DISCARD_BURST, this.balance + refill) - bytes;
    this.last = now;
    return this.balance >= 0 ? 0 : (-this.balance / DISCARD_BYTES_PER_SECOND) * 1000;
  }
}

/**
 * A body declared at least this large (or sent in chunks, size unknown) is a large upload: a
 * client has one at a time being read. Reading and parsing one (a batch of 256 large images
 * is 9 MB) holds the event loop some 40 ms, and before the first of a client's uploads is
 * admitted nothing tells how much work the next ones carry: four sent at once cost 160 ms
 * of everyone's time, most of it for batches the client's share then refuses (bench:fair).
 */
const LARGE_UPLOAD_BYTES = 1024 * 1024;

/** Large uploads being read, per client (see LARGE_UPLOAD_BYTES). */
class LargeUploads {
  private readonly reading = new Set<string>();

  /** Whether `client` may send a large upload now; if so it counts until `raw` is read. */
  begin(client: string, raw: IncomingMessage): boolean {
    if (this.reading.has(client)) return false;
    this.reading.add(client);
    // 'close' comes once the body is read and parsed, or the request was aborted.
    raw.once('close', () => this.reading.delete(client));
    return true;
  }
}

interface Gates {
  readonly discard: DiscardBudget;
  readonly uploads: LargeUploads;
}

const gates = new WeakMap<InferencePool, Gates>();

function gatesOf(pool: InferencePool): Gates {
  let found = gates.get(pool);
  if (!found) {
    found = { discard: new DiscardBudget(), uploads: new LargeUploads() };
    gates.set(pool, found);
  }
  return found;
}

/** A large upload that will be read (one declared over the body limit is refused unread). */
function isLarge(request: FastifyRequest): boolean {
  const declared = declaredBytes(request);
  if (declared > 0)
    return (
      declared >= LARGE_UPLOAD_BYTES && declared <= (request.routeOptions.bodyLimit ?? Infinity)
    );
  return request.headers['transfer-encoding'] !== undefined;
}

/** How late the event loop is (ms, its mean delay over the last moment) and its bound. */
export interface EventLoopLoad {
  /** The measured delay (@fastify/under-pressure's, its mean over the last sample). */
  delayMs(): number;
  /** Beyond this work is refused 503; 0 = never. */
  readonly maxDelayMs: number;
}

/**
 * A 503 for every request of work while the event loop lags more than `maxDelayMs` (issue
 * 26): the loop that reads requests and answers them is the bottleneck then, and more work
 * admitted would only make every answer later. Retry-After: 1, the time it takes to measure
 * again.
 */
function eventLoopRefusal(pool: InferencePool, load: EventLoopLoad | undefined): ApiError | null {
  if (!load || load.maxDelayMs <= 0) return null;
  const delay = load.delayMs();
  if (!(delay > load.maxDelayMs)) return null;
  pool.countShed('overloaded');
  return new ApiError(
    503,
    'overloaded',
    `the server is overloaded: its event loop is ${Math.round(delay)} ms late (over ${load.maxDelayMs} ms); retry in 1 s`,
    1,
  );
}

/**
 * The onRequest hook of every route whose work goes through the inference pool. A refused
 * request is answered at once, before its body is read, and the rest of its upload is then
 * read and thrown away, so that the connection ends cleanly. Closing it instead, with the
 * upload still arriving, makes the server's TCP stack reset the connection, and a reset can
 * erase the answer from the client's buffers before the client has read it (RFC 9112 9.6,
 * "the TCP reset problem"; Node's own client then reports EPIPE instead of the 429). Reading
 * is bounded: nothing is kept, it is paced (DISCARD_BYTES_PER_SECOND), and a body over the
 * route's limit (which would be refused 413 anyway) is not read but cut off: declared that
 * large, at once; sent in chunks, once that much has arrived. The request timeout bounds how
 * long a slow upload is waited for.
 */
export function admissionHook(
  pool: InferencePool,
  eventLoop?: EventLoopLoad,
): onRequestHookHandler {
  const { discard, uploads } = gatesOf(pool);
  return async (request, reply) => {
    const client = clientOf(request);
    let refusal =
      pool.precheck(client, declaredBytes(request)) ?? eventLoopRefusal(pool, eventLoop);
    if (!refusal && isLarge(request) && !uploads.begin(client, request.raw)) {
      pool.countShed('client_share');
      refusal = new ApiError(
        429,
        'rate_limited',
        `this client is already sending a request of over ${LARGE_UPLOAD_BYTES / 1024 / 1024} MiB that is still being read: send large requests one after another`,
        1,
      );
    }
    if (!refusal) return;
    discardBody(request, reply, discard);
    throw refusal;
  };
}

/** Reads and drops the body of a refused request, within `budget` (see above). */
function discardBody(request: FastifyRequest, reply: FastifyReply, budget: DiscardBudget): void {
  const limit = request.routeOptions.bodyLimit ?? Infinity;
  const declared = declaredBytes(request);
  if (declared > limit) {
    reply.header('connection', 'close');
    return;
  }
  const raw = request.raw;
  lingerUntilRead(raw);
  let received = 0;
  raw.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      raw.socket.destroy();
      return;
    }
    const pause = budget.take(chunk.length);
    // Once the whole body is in, pausing would only delay the connection's next request.
    if (pause > 0 && received !== declared) {
      raw.pause();
      setTimeout(() => raw.resume(), pause).unref();
    }
  });
}

/**
 * A connection that ends with this answer (the client asked for `Connection: close`, or the
 * server is draining) is closed by Node as soon as the answer is written, and any upload
 * still arriving then resets it. Here it is half-closed instead, the answer and its end sent,
 * and closed once the request's body has been read: a lingering close.
 */
function lingerUntilRead(raw: IncomingMessage): void {
  const socket = raw.socket;
  // Requests injected in tests have no real socket, and their body is all there already.
  if (typeof socket?.destroySoon !== 'function') return;
  const destroySoon = socket.destroySoon.bind(socket);
  let closing = false;
  socket.destroySoon = () => {
    if (raw.complete) return destroySoon();
    closing = true;
    socket.end();
  };
  raw.once('end', () => {
    socket.destroySoon = destroySoon;
    if (closing) destroySoon();
  });
}

/**
 * Aborted when the client goes away before its answer is sent, so that its work still waiting
 * is dropped instead of computed for nobody.
 */
export function abandonedSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * TRUST_PROXY as Fastify's `trustProxy`: unset, empty or `false` trusts nobody (the socket's
 * address is the client); `true` trusts every proxy (only behind one that overwrites
 * X-Forwarded-For); a number trusts that many hops; anything else is a comma-separated list
 * of proxy addresses or CIDR ranges (`127.0.0.1,10.0.0.0/8`).
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value;
}

/** Fastify's `trustProxy` setting (its hop count as the function it stands for). */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);
