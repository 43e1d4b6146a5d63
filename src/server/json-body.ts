/**
 * JSON request bodies. A small body is parsed here, on the main thread, as it always was. A
 * large body of a route of work (a batch, a big image, a pixel array) is handed, unparsed and
 * without a copy, to the body worker (body-worker.ts), which parses it and prepares it for
 * the pool (work-body.ts): parsing 7 MB of JSON took some 10-20 ms of the event loop, a
 * 2048x2048 pixel array 200 ms, and every other client waited that long (issue 26). What
 * comes back is the prepared work, image strings and pixel Float32Arrays, which costs the
 * main thread a copy of the strings and nothing for the arrays.
 *
 * The worker is one thread (piscina), started once the model is loaded (or by the first large
 * body) and kept: parsing is a small part of the work a large body carries, and the inference
 * workers have the cores.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyRequest } from 'fastify';
import { Piscina } from 'piscina';
import { ApiError } from './errors.ts';
import { apiErrorFrom, type ErrorData, type PreparedWork, type WorkRoute } from './work-body.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the routes of work: their large bodies are prepared in the body worker. */
    workRoute?: WorkRoute;
  }
}

/**
 * Bodies up to this size are parsed on the main thread: a canvas snapshot is a few
 * kilobytes, and JSON.parse takes well under a millisecond for this much even of numbers.
 * Larger ones (a batch, a large image, a `pixels` array) go to the body worker.
 */
export const INLINE_BODY_BYTES = 64 * 1024;

/**
 * Large bodies waiting for the body worker, at most: more are refused 503 (Retry-After), so
 * that bodies read faster than they can be parsed do not pile up in memory (16 at the 16 MiB
 * limit is 256 MiB).
 */
const MAX_WAITING_BODIES = 16;

const WORKER_FILE = fileURLToPath(new URL('./body-worker-entry.mjs', import.meta.url));

export function parseJson(body: string): unknown {
  if (body.length === 0)
    throw new ApiError(400, 'invalid_request', 'the body is empty: send a JSON object');
  try {
    return JSON.parse(body);
  } catch (err) {
    // Newer V8 messages quote part of the input; keep the position, not the caller's data.
    // ("Unexpected token 'N', ..."pixels":[NaN,2"... is not valid JSON")
    const reason = (err as Error).message
      .replace(/,? (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
      .slice(0, 200);
    throw new ApiError(400, 'invalid_request', `the body is not valid JSON: ${reason}`);
  }
}

/** What the body worker is given: the body's bytes (moved), and the route it is for. */
export interface BodyTask {
  readonly body: Uint8Array;
  readonly route: WorkRoute;
}

/** What it answers: the prepared work, or why the body is no JSON at all. */
export type BodyResult =
  | { readonly kind: 'prepared'; readonly work: PreparedWork }
  | { readonly kind: 'unparsable'; readonly error: ErrorData };

/** A body the body worker prepared: its route's handler takes it as it is. */
export class PreparedBody {
  constructor(readonly work: PreparedWork) {}
}

export class JsonBodies {
  private workers?: Piscina<BodyTask, BodyResult>;
  private closed = false;

  /**
   * @param onShed called when a large body is refused because too many wait for the worker
   *   (counted with the pool's shed requests).
   */
  constructor(private readonly onShed: () => void = () => {}) {}

  /**
   * The body as its route takes it: the parsed JSON, or for a large body of a route of work,
   * a PreparedBody. Invalid JSON throws (400 invalid_request).
   */
  async parse(request: FastifyRequest, body: Buffer): Promise<unknown> {
    const route = request.routeOptions.config?.workRoute;
    if (!route || body.length <= INLINE_BODY_BYTES) return parseJson(body.toString('utf8'));
    const workers = this.start();
    // As the pool answers a request that arrives while it closes.
    if (!workers)
      throw new ApiError(503, 'not_ready', 'the server is shutting down: try again shortly');
    if (workers.queueSize >= MAX_WAITING_BODIES) {
      this.onShed();
      throw new ApiError(
        503,
        'overloaded',
        'the server is overloaded: too many large requests are waiting to be read; retry in 1 s',
        1,
      );
    }
    // Fastify's body is a copy of its own, in an ArrayBuffer of its own when this large:
    // moved to the worker, not copied.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const result = await workers.run(
      { body, route },
      own ? { transferList: [body.buffer as ArrayBuffer] } : {},
    );
    if (result.kind === 'unparsable') throw apiErrorFrom(result.error);
    return new PreparedBody(result.work);
  }

  /**
   * Starts the body worker (loading its modules takes half a second of a core, better spent
   * before the first large body arrives than while it waits). Undefined once closed.
   */
  start(): Piscina<BodyTask, BodyResult> | undefined {
    if (this.closed) return undefined;
    this.workers ??= new Piscina<BodyTask, BodyResult>({
      filename: WORKER_FILE,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      maxQueue: MAX_WAITING_BODIES,
    });
    return this.workers;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.workers?.destroy();
  }
}
