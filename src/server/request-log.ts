/**
 * The request log as `npm start` writes it: one JSON line per request to `dest` (default
 * stdout). A write per line cost about 0.1 ms of the event loop per request here
 * (docs/benchmarks.md), so lines are buffered and written a few kilobytes at a time, or half
 * a second after the first unwritten line at the latest. A timer runs only while lines wait,
 * so an idle or closed app keeps none.
 *
 * Whoever reads stdout may go away (a log shipper that dies, a supervisor restarted) or stop
 * reading. Node ignores SIGPIPE, so writes then fail (EPIPE, or EAGAIN on a full pipe)
 * instead of ending the process. pino's destination writes what is still buffered
 * synchronously when the process exits, and sonic-boom 4 retries any failed write there
 * forever, 100 ms apart: with lines buffered and the reader gone, the process never exited
 * (issue #26). So the server ends its log before it exits (`end`), asynchronously and
 * bounded in time, which leaves pino's exit hook nothing to write.
 */
import { pino } from 'pino';

/** Log lines are written once this much is buffered, or after FLUSH_MS at the latest. */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 500;
/** A reader that stops reading costs at most this much memory: later lines are dropped. */
const LOG_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface RequestLogStream extends pino.DestinationStream {
  /**
   * Writes the lines still buffered and lets go of the output. Resolves once they are
   * written, once the output fails, or after `timeoutMs`, whatever is left then being
   * dropped: an exit never waits on a reader that is gone or stalled. Lines logged later
   * are dropped. Called right before the process exits.
   */
  end(timeoutMs: number): Promise<void>;
}

export function requestLog(
  level = 'info',
  dest: string | number = 1,
): { level: string; stream: RequestLogStream } {
  const file = pino.destination({
    dest,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    maxLength: LOG_MAX_BUFFERED_BYTES,
  });
  // pino stops writing on EPIPE by itself and re-emits any other failure (a full disk, a
  // closed descriptor), which would crash the server: a lost log line must not.
  file.on('error', () => {});
  let unwritten = 0; // bytes handed to the destination and not yet written out
  file.on('write', (bytes: number) => {
    unwritten -= bytes;
  });
  let flushTimer: NodeJS.Timeout | null = null;
  const flushLater = () => setTimeout(flush, LOG_FLUSH_MS).unref();
  function flush(): void {
    flushTimer = null;
    if (unwritten <= 0) return;
    try {
      file.flush();
    } catch {
      return; // the destination was closed as the process exits: pino wrote what it had
    }
    // A flush asked for while a write (or the file's opening) is under way does nothing.
    flushTimer = flushLater();
  }

  let ended: Promise<void> | undefined;
  return {
    level,
    stream: {
      write(line: string) {
        if (ended) return;
        file.write(line);
        unwritten += Buffer.byteLength(line);
        flushTimer ??= flushLater();
      },
      end(timeoutMs: number) {
        if (flushTimer) clearTimeout(flushTimer);
        ended ??= new Promise<void>((resolve) => {
          const giveUp = setTimeout(letGo, timeoutMs);
          function letGo(): void {
            clearTimeout(giveUp);
            // A destroyed destination is one pino's exit hook leaves alone.
            file.destroy();
            resolve();
          }
          // Called back once written, or with the output's error (EPIPE: the reader is gone).
          file.flush(letGo);
        });
        return ended;
      },
    },
  };
}
