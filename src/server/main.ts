/**
 * The server process. `npm start` builds the page and runs this; `npm run serve` runs it with
 * `--serve`: the page must already be built (a clear error otherwise), nothing is built, and
 * only production dependencies are needed (containers, fleets). Both run it as
 * `node --import tsx`, one process: no wrapper that would relay signals a second time.
 *
 * Environment (every variable is described in .env.example): PORT, HOST, RATE_LIMIT,
 * RATE_LIMIT_IMAGES, RATE_LIMIT_MEGAPIXELS, MAX_BATCH_MEGAPIXELS, QUEUE_CLIENT_SECONDS,
 * QUEUE_WAIT_SECONDS, MAX_EVENT_LOOP_DELAY_MS, TRUST_PROXY, CORS_ORIGIN, WORKERS, LOG_LEVEL, REQUEST_TIMEOUT_MS, SHUTDOWN_DELAY_MS, SHUTDOWN_TIMEOUT_MS,
 * DATABASE_URL (PostgreSQL for corrections) or DATA_DIR (the embedded database's folder;
 * default ./data), ADMIN_TOKEN (enables GET /api/corrections/export).
 * On SIGTERM or SIGINT it drains (see shutdown.ts) and exits 0.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../store/open.ts';
import { parseTrustProxy } from './admission.ts';
import {
  buildApp,
  DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
  DEFAULT_RATE_LIMIT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_WEB_ROOT,
  DEFAULT_WORK_RATE,
} from './app.ts';
import { requestLog } from './request-log.ts';
import { gracefulShutdown, SHUTDOWN_SIGNALS, whenParentExits } from './shutdown.ts';
import type { WorkBudget } from './work-ledger.ts';

/**
 * Time allowed for the requests in flight once the listener is closed. The longest request,
 * a batch of 256 images queued behind others, takes a few seconds (docs/benchmarks.md).
 */
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 15_000;
/**
 * Longest wait for the log's last lines when exiting. A live reader takes a few kilobytes at
 * once; one that is gone fails the write at once; one that takes longer is not reading.
 */
const LOG_END_TIMEOUT_MS = 2_000;

// Made before anything else, so that every exit, a failed start too, ends it first.
const log = requestLog(process.env.LOG_LEVEL || 'info');

/**
 * Exits once the log's buffered lines are written or given up on: otherwise pino writes them
 * synchronously at exit, and retries forever when nobody reads stdout any more (request-log.ts).
 */
function exitAfterLog(code: number): void {
  void log.stream.end(LOG_END_TIMEOUT_MS).then(() => process.exit(code));
}

/** A mistake in how the server was started: told in one line, without a stack. */
class StartupError extends Error {}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new StartupError(`${name} must be a whole number >= 0, not "${raw}"`);
  }
  return value;
}

function numberFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new StartupError(`${name} must be a number >= 0, not "${raw}"`);
  }
  return value;
}

const mega = (value: number | undefined) => (value === undefined ? undefined : value * 1e6);

/** RATE_LIMIT_IMAGES / RATE_LIMIT_MEGAPIXELS, or undefined for the app's default. */
function workRateFromEnv(): WorkBudget | undefined {
  const images = numberFromEnv('RATE_LIMIT_IMAGES');
  const megapixels = numberFromEnv('RATE_LIMIT_MEGAPIXELS');
  if (images === undefined && megapixels === undefined) return undefined;
  return {
    images: images ?? DEFAULT_WORK_RATE.images,
    pixels: mega(megapixels) ?? DEFAULT_WORK_RATE.pixels,
  };
}

async function main(): Promise<void> {
  const serveBuilt = process.argv.includes('--serve');
  if (serveBuilt && !existsSync(join(DEFAULT_WEB_ROOT, 'index.html'))) {
    throw new StartupError(
      `the web page is not built (no ${join(DEFAULT_WEB_ROOT, 'index.html')}): ` +
        'run `npm run build` first, then `npm run serve` (or `npm start`, which does both)',
    );
  }
  const port = intFromEnv('PORT', 3000);
  const host = process.env.HOST || '127.0.0.1';
  const workers = process.env.WORKERS ? intFromEnv('WORKERS', 0) || undefined : undefined;
  const shutdownDelayMs = intFromEnv('SHUTDOWN_DELAY_MS', 0);
  const shutdownTimeoutMs = intFromEnv('SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS);
  const app = await buildApp({
    rateLimit: intFromEnv('RATE_LIMIT', DEFAULT_RATE_LIMIT),
    workRate: workRateFromEnv(),
    maxBatchPixels: mega(numberFromEnv('MAX_BATCH_MEGAPIXELS')),
    queueLimits: {
      clientSeconds: numberFromEnv('QUEUE_CLIENT_SECONDS'),
      waitSeconds: numberFromEnv('QUEUE_WAIT_SECONDS'),
    },
    maxEventLoopDelayMs: intFromEnv('MAX_EVENT_LOOP_DELAY_MS', DEFAULT_MAX_EVENT_LOOP_DELAY_MS),
    trustProxy: parseTrustProxy(process.env.TRUST_PROXY),
    corsOrigin: process.env.CORS_ORIGIN || undefined,
    workers,
    requestTimeoutMs: intFromEnv('REQUEST_TIMEOUT_MS', DEFAULT_REQUEST_TIMEOUT_MS),
    logger: log,
    corrections: {
      databaseUrl: process.env.DATABASE_URL || undefined,
      dataDir: process.env.DATA_DIR || DEFAULT_DATA_DIR,
    },
    adminToken: process.env.ADMIN_TOKEN || undefined,
  });

  const stop = gracefulShutdown(app, {
    delayMs: shutdownDelayMs,
    timeoutMs: shutdownTimeoutMs,
    log: app.log,
    exit: exitAfterLog,
  });
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, () => void stop(signal));
  whenParentExits(() => void stop('parent-exited'));

  const address = await app.listen({ port, host });
  app.log.info(`digits is serving on ${address} (API docs at ${address}/docs)`);
  app.inference.whenReady().then(
    (model) => app.log.info({ model }, 'ready: /healthz answers 200'),
    (err: unknown) =>
      app.log.error({ err }, 'the model could not be loaded: predictions will fail'),
  );
}

main().catch((err: unknown) => {
  if (err instanceof StartupError) console.error(`digits: ${err.message}`);
  else console.error(err);
  exitAfterLog(1);
});
