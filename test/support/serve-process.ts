/**
 * A server started the way people start it (`npm run serve`, `npm start`, or node directly),
 * in a process group of its own so that tests can signal the whole group as a terminal or a
 * container runtime does. Used by the shutdown test, the fleet test and bench:rolling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type LogLine = Record<string, unknown>;

export interface ServeProcess {
  /** The process started: npm, or node itself. */
  readonly child: ChildProcess;
  /** Its process group (its pid: it leads the group). */
  readonly pgid: number;
  readonly url: string;
  /** The node server's pid, from its log lines. */
  readonly serverPid: number;
  /** JSON log lines so far. */
  readonly lines: LogLine[];
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The command's exit, once it and every process holding its output have ended. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** ms from spawning the command to its first log line saying it listens. */
  readonly listeningMs: number;
}

export interface ServeOptions {
  /** The command and its arguments, e.g. ['npm', 'run', 'serve']. */
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env?: Record<string, string>;
  /** Give up waiting for "serving on" after this long. */
  readonly startTimeoutMs?: number;
}

/** Every group started, even after its leader exited: a process left behind is in it. */
const groups = new Set<number>();

/** Starts the command, resolves once the server logs the address it listens on. */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const [command, ...args] = options.command;
  const started = performance.now();
  // Unless told where, each server keeps its corrections in a folder of its own (removed
  // when it exits), never in the repository's ./data that another test's server may hold.
  const ownData =
    options.env?.DATA_DIR || options.env?.DATABASE_URL
      ? undefined
      : mkdtempSync(join(tmpdir(), 'digits-serve-data-'));
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      ...(ownData ? { DATA_DIR: ownData } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a group of its own: kill(-pgid) reaches npm and node alike
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.command.join(' ')}`);
  let out = '';
  let err = '';
  let partial = ''; // the start of a line whose end has not arrived yet
  const lines: LogLine[] = [];
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (err += chunk));
  // 'close', not 'exit': it comes once every process holding the output has ended and all of
  // it has been read (so an error message on stderr is complete).
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  if (ownData) void exit.then(() => rmSync(ownData, { recursive: true, force: true }));
  const listening = new Promise<{ url: string; pid: number; ms: number }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const complete = (partial + chunk).split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        if (!line.startsWith('{')) continue; // npm's own banner
        const entry = JSON.parse(line) as LogLine;
        lines.push(entry);
        const match = /serving on (http:\/\/[^ ]+)/.exec(String(entry.msg));
        if (match)
          resolve({ url: match[1], pid: Number(entry.pid), ms: performance.now() - started });
      }
    });
    void exit.then(({ code, signal }) =>
      reject(
        new Error(
          `${options.command.join(' ')} exited (${code ?? signal}) before listening: ${err}`,
        ),
      ),
    );
    setTimeout(
      () => reject(new Error(`${options.command.join(' ')} did not listen in time: ${err}`)),
      options.startTimeoutMs ?? 60_000,
    ).unref();
  });
  const server: ServeProcess = {
    child,
    pgid: child.pid,
    url: '',
    serverPid: 0,
    lines,
    stdout: () => out,
    stderr: () => err,
    exit,
    listeningMs: 0,
  };
  groups.add(server.pgid);
  try {
    const { url, pid, ms } = await listening;
    return Object.assign(server, { url, serverPid: pid, listeningMs: ms });
  } catch (error) {
    killGroup(server.pgid, 'SIGKILL');
    throw error;
  }
}

/** Polls /healthz until it answers 200; returns the ms it took. */
export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const status = await fetch(`${url}/healthz`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`${url}/healthz still answers ${status} after ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** Signals every process of a group, as Ctrl-C in a terminal or `kill -TERM -PGID` does. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Whether any process of the group is still alive. */
export function groupAlive(pgid: number): boolean {
  return processAlive(-pgid);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until `test()` is false, polling; throws after `timeoutMs`. */
export async function waitUntilGone(
  what: string,
  test: () => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const started = performance.now();
  while (test()) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what} still alive`);
    await sleep(50);
  }
}

/** SIGKILLs whatever is left of every group this module started (tests' afterAll). */
export function killAllStarted(): void {
  for (const pgid of groups) killGroup(pgid, 'SIGKILL');
  groups.clear();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
