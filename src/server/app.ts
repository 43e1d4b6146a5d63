/**
 * The HTTP app (design.md, "HTTP API"): built by a factory so that tests drive it through
 * `app.inject` and main.ts listens with it. The model loads in the inference workers in the
 * background: /healthz answers 503 until it is ready, and predictions sent meanwhile wait.
 */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import {
  DEFAULT_LINE_MODEL_DIR,
  DEFAULT_MODEL_DIR,
  DEFAULT_PAPER_LINE_MODEL_DIR,
} from '../recognizer/node.ts';
import type { StoreConfig } from '../store/open.ts';
import { UserAdaptation } from './adaptation.ts';
import corrections from './corrections.ts';
import { registerDocs } from './docs.ts';
import { ApiError, sendError, toApiError } from './errors.ts';
import type { TrustProxy } from './admission.ts';
import { DEFAULT_MAX_BATCH_PIXELS } from './cost.ts';
import { JsonBodies } from './json-body.ts';
import type { SchedulerLimits } from './scheduler.ts';
import type { WorkBudget } from './work-ledger.ts';
import { registerMetrics, routeLabel } from './metrics.ts';
import { registerCorrectionsRoutes } from './routes/corrections.ts';
import inference from './pool/plugin.ts';
import { registerHealthRoute } from './routes/health.ts';
import { registerOperationRoutes } from './routes/operation-routes.ts';
import { predictRoutes } from './routes/predict.ts';
import { readRoutes } from './routes/read.ts';
import { DEFAULT_BODY_LIMIT } from './schemas.ts';
import { isUnbuiltPage, registerStatic } from './static.ts';
import { createAjv, validationFormatter } from './validation.ts';

export const DEFAULT_WEB_ROOT = new URL('../../dist/web', import.meta.url).pathname;
/** Requests a minute per client on /api/*: ten a second, far above a person drawing. */
export const DEFAULT_RATE_LIMIT = 600;
/**
 * Work a minute per client: 3,000 images (50 a second, about a tenth of what two workers
 * recognize) and 1,000 megapixels (about 240 images of 2048x2048, some 5 s of two workers'
 * time): a person drawing never comes near, a batch client gets a fair share.
 */
export const DEFAULT_WORK_RATE: WorkBudget = { images: 3000, pixels: 1000e6 };

export interface AppOptions {
  /** The model folder (model.json, weights.bin); default models/mnist-cnn. */
  readonly modelDir?: string;
  /** The built web page; default dist/web. */
  readonly webRoot?: string;
  /** Requests a minute per client on /api/*; 0 turns limiting off. Default 600. */
  readonly rateLimit?: number;
  /**
   * Images and pixels a minute per client (0 = no limit on that one). Default
   * DEFAULT_WORK_RATE, or none when `rateLimit` is 0 (benchmarks and evaluations turn every
   * rate limit off with it).
   */
  readonly workRate?: WorkBudget;
  /** Pixels one batch may hold (413 beyond); default 2^30 (256 images of 2048x2048). */
  readonly maxBatchPixels?: number;
  /** Bounds of the queue of work (inference-pool.ts, DEFAULT_LIMITS). */
  readonly queueLimits?: Partial<SchedulerLimits>;
  /**
   * Fastify's trustProxy: which proxies' X-Forwarded-For names the client (the key of the
   * rate limits and of fair sharing). Default false: the socket's address.
   */
  readonly trustProxy?: TrustProxy;
  /** Allowed origins, comma-separated; default every origin ("*"). */
  readonly corsOrigin?: string;
  /** Inference worker threads; default one per core. */
  readonly workers?: number;
  /** Largest request body in bytes; default 16 MiB (see schemas.ts). */
  readonly bodyLimit?: number;
  /**
   * Where users' corrections are kept: `{ databaseUrl }` (PostgreSQL) or `{ dataDir }` (the
   * embedded database); false (default) keeps none and the corrections routes answer 503.
   * `npm start` passes DATABASE_URL or DATA_DIR (default ./data).
   */
  readonly corrections?: StoreConfig | false;
  /** Bearer token for GET /api/corrections/export; without one the export answers 404. */
  readonly adminToken?: string;
  /** Fastify's logger: false (default), true, or pino options. */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * Work is refused 503 (Retry-After) while the event loop's mean delay over the last half
   * second is over this many ms; 0 (default) turns it off. `npm start` sets it from
   * MAX_EVENT_LOOP_DELAY_MS, default DEFAULT_MAX_EVENT_LOOP_DELAY_MS: a server's own loop. Off
   * by default here, as apps built in tests share their loop with the tests' own work (a full
   * test run measured 103-174 ms).
   */
  readonly maxEventLoopDelayMs?: number;
  /**
   * Longest time to receive a whole request, headers and body, in ms (default 30 s): a
   * client that trickles its upload is answered 408 and cut off instead of holding a
   * connection and its buffers forever. 0 turns it off.
   */
  readonly requestTimeoutMs?: number;
}

/**
 * An event loop this late on average (ms) makes every answer late by as much: the small
 * client's p99 target under a flood is 100 ms (issue 26). Under the floods of bench:fair the
 * mean delay stays within a few ms.
 */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 100;
/** How often the event loop's delay is measured (its mean over this long), in ms. */
const EVENT_LOOP_SAMPLE_MS = 500;

/** 30 s receives the 16 MiB body limit at about 4.5 Mbit/s; a canvas PNG is a few kB. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * A connection with no byte sent either way for this long is closed, whatever state it is
 * in: a dead client cannot pin a socket. Longer than the request timeout and than the
 * keep-alive timeout, so each of those acts first in its own case.
 */
const IDLE_CONNECTION_TIMEOUT_MS = 120_000;
/** A tenth of the request timeout, between 0.1 and 5 s: a late request waits at most that long. */
function timeoutCheckInterval(requestTimeoutMs: number): number {
  return requestTimeoutMs > 0 ? Math.min(5_000, Math.max(100, requestTimeoutMs / 10)) : 30_000;
}

/**
 * Idle keep-alive connections are kept 72 s (Fastify's default): longer than the idle
 * timeout of the proxies in front (nginx 60 s, most cloud load balancers 60 s), so the
 * server never closes a connection a proxy is just about to reuse.
 */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Starts draining, before `close()`: /healthz answers 503 from now on and every answer
     * ends its connection, so load balancers move away while requests are still served.
     */
    drain(): void;
    /** Whether `drain()` (or `close()`) has begun. */
    readonly draining: boolean;
  }
}

/** The path without the query string: logs never carry what a client put in a URL. */
function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? request.url : request.url.slice(0, q);
}

/** CORS, rate limiting and OpenAPI: registered before the routes, whose hooks they add. */
async function registerPlugins(
  app: FastifyInstance,
  corsOrigin: string | undefined,
  limit: number,
): Promise<void> {
  await app.register(cors, {
    // The API carries no credentials, so every origin may call it unless narrowed.
    origin: corsOrigin
      ? corsOrigin
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean)
      : '*',
    methods: ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'],
    // A page on another origin reads how long to wait after a 429 or 503.
    exposedHeaders: ['Retry-After', 'Server-Timing'],
    maxAge: 600,
  });
  if (limit > 0) {
    // One budget per client for all of /api; health checks, metrics scrapes, the docs and
    // the page's own files are not limited.
    await app.register(rateLimit, {
      max: limit,
      timeWindow: '1 minute',
      allowList: (request) => !pathOf(request).startsWith('/api/'),
      errorResponseBuilder: (_request, context) =>
        new ApiError(
          429,
          'rate_limited',
          `too many requests: at most ${context.max} a minute per client; retry in ${context.after}`,
        ),
    });
  }
  // Measures the event loop's delay (app.memoryUsage()); admission refuses work on it.
  await app.register(underPressure, { sampleInterval: EVENT_LOOP_SAMPLE_MS });
  await registerDocs(app);
}

/** How long a connection accepted just before closing has to deliver its request. */
const FRESH_CONNECTION_GRACE_MS = 200;

/**
 * Node's `server.close()` destroys at once every connection with no request in progress, and
 * that includes a connection accepted a moment ago whose request is still unread in its
 * buffer: the client, typically a proxy, gets a reset for a request it has sent (the fleet
 * test saw nginx log them during rolling restarts). Here closing stops listening at once but
 * closes idle connections only after FRESH_CONNECTION_GRACE_MS, by when such requests have
 * been read (and are answered, with `Connection: close`), and again at that interval until
 * every connection has ended.
 */
function closeIdleConnectionsLate(server: Server): void {
  const closeIdle = server.closeIdleConnections.bind(server);
  // Node's close() calls this once, right before it stops listening.
  server.closeIdleConnections = () => {
    const timer = setInterval(closeIdle, FRESH_CONNECTION_GRACE_MS);
    server.once('close', () => clearInterval(timer));
  };
}

export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const modelDir = resolve(options.modelDir ?? DEFAULT_MODEL_DIR);
  const webRoot = resolve(options.webRoot ?? DEFAULT_WEB_ROOT);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const limit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const app = Fastify({
    logger: options.logger ?? false,
    requestTimeout,
    // Node applies requestTimeout only when given to createServer (setting it on the server
    // later, as Fastify does, leaves bodies unbounded), and looks for requests past their
    // time only every connectionsCheckingInterval (30 s by default).
    http: { requestTimeout, connectionsCheckingInterval: timeoutCheckInterval(requestTimeout) },
    connectionTimeout: Math.max(IDLE_CONNECTION_TIMEOUT_MS, requestTimeout),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // One line per request, written in onResponse below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    trustProxy: options.trustProxy ?? false,
    schemaErrorFormatter: validationFormatter('prediction'),
  });

  const ajv = createAjv();
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));

  // JSON only: any other content type is 415, not a string that fails validation later. Large
  // bodies of work are parsed off the event loop (json-body.ts).
  const bodies = new JsonBodies(() => app.inference.countShed('overloaded'));
  app.addHook('onClose', async () => bodies.close());
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer) => bodies.parse(request, body),
  );

  const errorCodes = new WeakMap<FastifyRequest, string>();
  app.setErrorHandler((err, request, reply) => {
    const error = toApiError(err, request, bodyLimit);
    errorCodes.set(request, error.code);
    if (error.statusCode >= 500 && error.code === 'internal_error') {
      request.log.error({ err }, 'request failed');
    }
    return sendError(reply, error);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request);
    const error = isUnbuiltPage(path, webRoot)
      ? new ApiError(
          503,
          'page_not_built',
          'the web page is not built yet: run `npm run build` (the API works meanwhile: see /docs)',
        )
      : new ApiError(
          404,
          'not_found',
          `no route ${request.method} ${path}: the API is POST /api/predict, POST /api/predict/batch, POST /api/read, POST /api/read/batch, /api/corrections, GET /healthz and GET /metrics (see /docs)`,
        );
    errorCodes.set(request, error.code);
    return sendError(reply, error);
  });

  app.addHook('onResponse', async (request, reply) => {
    const code = errorCodes.get(request);
    // app.log, not request.log: the static plugin's quieter log level must not hide page requests.
    app.log.info(
      {
        reqId: request.id,
        method: request.method,
        path: pathOf(request),
        route: routeLabel(request),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        ...(code ? { error: code } : {}),
      },
      'request',
    );
  });

  // On close, the server waits for every connection to end; a keep-alive connection whose
  // request finishes during shutdown would hold it open until the client lets go. Answers
  // sent while draining or closing therefore end their connection.
  let draining = false;
  app.decorate('drain', () => {
    draining = true;
  });
  app.decorate('draining', {
    getter: () => draining,
  });
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
    // The server's own time for the request, from its first byte to its answer: clients (the
    // page's phases, bench:web) tell it from the network's.
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
  });
  closeIdleConnectionsLate(app.server);

  await app.register(inference, {
    size: options.workers,
    modelDir,
    limits: options.queueLimits,
    workBudget: options.workRate ?? (limit > 0 ? DEFAULT_WORK_RATE : { images: 0, pixels: 0 }),
  });
  const pool = app.inference;
  // The body worker starts once the model is loaded, not while it loads.
  pool.whenReady().then(
    () => bodies.start(),
    () => {},
  );

  try {
    await registerPlugins(app, options.corsOrigin, limit);
    // The store is asked for on first use (it is registered below).
    const adaptation = new UserAdaptation(
      () => app.corrections,
      pool,
      app.log.child({ component: 'adaptation' }),
    );
    app.addHook('onClose', async () => adaptation.close());
    registerMetrics(app, pool, adaptation);
    registerHealthRoute(app, pool, () => draining);
    const maxBatchPixels = options.maxBatchPixels ?? DEFAULT_MAX_BATCH_PIXELS;
    await app.register(corrections, { store: options.corrections ?? false });
    adaptation.start();
    const eventLoop = {
      // Infinity when the loop was held for the whole measurement (no sample in it).
      delayMs: () => Math.min(app.memoryUsage().eventLoopDelay, EVENT_LOOP_SAMPLE_MS),
      maxDelayMs: options.maxEventLoopDelayMs ?? 0,
    };
    const work = { pool, ajv, maxBatchPixels, adaptation, eventLoop };
    registerOperationRoutes(app, predictRoutes, work);
    registerCorrectionsRoutes(app, { pool, adminToken: options.adminToken, adaptation });
    registerOperationRoutes(app, readRoutes, work);
    await registerStatic(app, {
      webRoot,
      models: [
        { dir: modelDir, name: 'mnist-cnn' },
        { dir: DEFAULT_LINE_MODEL_DIR, name: 'line-cnn' },
        { dir: DEFAULT_PAPER_LINE_MODEL_DIR, name: 'line-paper' },
      ],
    });
  } catch (err) {
    // Nobody will close an app that was never returned: its onClose hooks stop the workers
    // and the store of the plugins registered so far.
    await app.close();
    throw err;
  }
  return app;
}
