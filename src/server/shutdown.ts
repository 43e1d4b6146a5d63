/**
 * Graceful shutdown of a serving process (design.md, "Running it"). On SIGTERM or SIGINT:
 * drain at once (/healthz 503), keep serving for `delayMs` so load balancers notice, close
 * (stop listening, finish the requests in flight), exit 0.
 *
 * The same signal often arrives more than once: a terminal's Ctrl-C or `kill -TERM -PGID`
 * signals every process of the group, and `npm run` relays what it receives to its child as
 * well. A repeated signal therefore never cuts the drain short; `timeoutMs` bounds it, and
 * SIGKILL remains for whoever really means "now".
 *
 * Nothing may outlive the command that started it: when the parent process dies without
 * passing a signal on (npm killed with SIGKILL), this process notices that it was re-parented
 * and shuts down the same way.
 */
import { within } from '../core/deadline.ts';

/** What a shutdown needs from the server. */
export interface Drainable {
  /** Marks the server as going away (/healthz 503); requests are still served. */
  drain(): void;
  /** Stops listening and resolves once the requests in flight have been answered. */
  close(): Promise<void>;
}

export interface ShutdownOptions {
  /** Time to keep serving after the signal, already answering /healthz 503. */
  readonly delayMs: number;
  /** Longest wait for the requests in flight once the listener is closed; then exit 1. */
  readonly timeoutMs: number;
  readonly log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  /** Ends the process: in main.ts once the log is written out or given up, then `process.exit`. */
  readonly exit: (code: number) => void;
}

/** Why the process is stopping: a signal, or its parent having gone. */
export type StopReason = NodeJS.Signals | 'parent-exited';

export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Returns `stop(reason)`: the first call drains, closes and exits; later calls are logged and
 * change nothing. Resolves when the exit code has been handed to `exit`.
 */
export function gracefulShutdown(
  server: Drainable,
  options: ShutdownOptions,
): (reason: StopReason) => Promise<void> {
  let stopping: Promise<void> | undefined;
  let startedAt = 0;

  async function run(reason: StopReason): Promise<void> {
    startedAt = Date.now();
    server.drain();
    options.log.info(
      { reason, delayMs: options.delayMs, timeoutMs: options.timeoutMs },
      'shutting down: finishing the requests in flight',
    );
    if (options.delayMs > 0) await sleep(options.delayMs);
    try {
      const outcome = await within(
        server.close().then(() => 'closed' as const),
        options.timeoutMs,
        () => 'timeout' as const,
      );
      if (outcome === 'timeout') {
        options.log.error(
          { timeoutMs: options.timeoutMs },
          'requests still in flight after the shutdown timeout: exiting',
        );
        options.exit(1);
        return;
      }
      options.log.info({ ms: Date.now() - startedAt }, 'stopped');
      options.exit(0);
    } catch (err) {
      options.log.error({ err }, 'shutdown failed');
      options.exit(1);
    }
  }

  return (reason) => {
    if (stopping) {
      options.log.warn(
        { reason, sinceMs: Date.now() - startedAt },
        'already shutting down: the drain goes on (SIGKILL stops it at once)',
      );
      return stopping;
    }
    stopping = run(reason);
    return stopping;
  };
}

/**
 * Calls `onGone` once when this process's parent has exited (its parent id changes when it
 * is re-parented to init or a subreaper). Polling is the portable way: Node has no
 * parent-death signal. The timer does not keep the process alive.
 */
export function whenParentExits(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  // Process 1 as the parent (a container's init) or no parent: nothing to watch.
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
