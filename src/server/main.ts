/**
 * `npm start`: serves the page and the API on http://127.0.0.1:3000. Environment: PORT,
 * HOST, RATE_LIMIT (requests a minute per client, 0 = off), CORS_ORIGIN (comma-separated
 * origins; default all), WORKERS (inference threads; default one per core), LOG_LEVEL,
 * DATABASE_URL (PostgreSQL for corrections) or DATA_DIR (the embedded database's folder;
 * default ./data), ADMIN_TOKEN (enables GET /api/corrections/export).
 * On SIGTERM or SIGINT it stops accepting connections, finishes the requests in flight,
 * stops the workers and exits 0.
 */
import { DEFAULT_DATA_DIR } from '../store/open.ts';
import { buildApp, DEFAULT_RATE_LIMIT, requestLog } from './app.ts';

/** Time allowed for in-flight requests on shutdown before giving up. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a whole number >= 0, not "${raw}"`);
  }
  return value;
}

async function main(): Promise<void> {
  const port = intFromEnv('PORT', 3000);
  const host = process.env.HOST || '127.0.0.1';
  const workers = process.env.WORKERS ? intFromEnv('WORKERS', 0) || undefined : undefined;
  const app = await buildApp({
    rateLimit: intFromEnv('RATE_LIMIT', DEFAULT_RATE_LIMIT),
    corsOrigin: process.env.CORS_ORIGIN || undefined,
    workers,
    logger: requestLog(process.env.LOG_LEVEL || 'info'),
    corrections: {
      databaseUrl: process.env.DATABASE_URL || undefined,
      dataDir: process.env.DATA_DIR || DEFAULT_DATA_DIR,
    },
    adminToken: process.env.ADMIN_TOKEN || undefined,
  });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    app.log.info({ signal }, 'shutting down: finishing the requests in flight');
    const timer = setTimeout(() => {
      app.log.error('requests still in flight after the shutdown timeout: exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    app.close().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const address = await app.listen({ port, host });
  app.log.info(`digits is serving on ${address} (API docs at ${address}/docs)`);
  app.inference.whenReady().then(
    (model) => app.log.info({ model }, 'ready: /healthz answers 200'),
    (err: unknown) =>
      app.log.error({ err }, 'the model could not be loaded: predictions will fail'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
