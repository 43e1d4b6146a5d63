/**
 * Who a client is, and the checks a request of work passes before its body is even read.
 * A client is the rate limiter's key: its address, or behind a proxy that `trustProxy`
 * trusts, the forwarded address (Fastify's `request.ip`). A client over its share of the
 * queue, over its budget of work, or a server that is overloaded answers 429/503 with
 * Retry-After at once: a refused request costs no JSON parsing, so refusing a flood stays
 * cheap for the event loop that answers everyone else.
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { InferencePool } from './inference-pool.ts';

export function clientOf(request: FastifyRequest): string {
  return request.ip;
}

/**
 * Bodies larger than this that are refused before being read close their connection after
 * the answer. Node would otherwise read and discard the whole upload on the event loop: a
 * client that retries a 9 MB batch at once after each 429 made the server receive 200 MB/s
 * for nothing (bench:fair), delaying everyone. A smaller body has mostly arrived already, and
 * keeping its connection open costs nothing.
 */
const CLOSE_ABOVE_BYTES = 64 * 1024;

/** The onRequest hook of every route whose work goes through the inference pool. */
export function admissionHook(pool: InferencePool): onRequestHookHandler {
  return async (request, reply) => {
    const refusal = pool.precheck(clientOf(request));
    if (!refusal) return;
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > CLOSE_ABOVE_BYTES || request.headers['transfer-encoding'] !== undefined)
      reply.header('connection', 'close');
    throw refusal;
  };
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
