/**
 * A real, throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `pg_ctl`
 * on a free loopback port, and always stopped and removed afterwards (also when a test
 * fails or the process exits early). No mocks: the tests talk to the server Debian's
 * `postgresql` package installs (`.ci/run` installs it when missing).
 *
 *   const pg = await startPostgres();   // pg.url: postgres://postgres@127.0.0.1:PORT/postgres
 *   ...
 *   await pg.stop();                    // in afterAll
 *
 * Run as root (CI, containers), the server runs as the `postgres` user, as PostgreSQL
 * refuses to run as root; as any other user it runs as that user.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPostgres {
  /** A connection URL for the superuser `postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  /** The cluster's data folder (removed by stop()). */
  readonly dataDir: string;
  /** Stops the server (fast shutdown) and keeps its data: the database is "down". */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port with the same data. */
  resume(): Promise<void>;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** The newest PostgreSQL bin folder, preferring the major version `preferred`. */
export function findPostgresBin(preferred = 15): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .map(Number)
        .filter((v) => Number.isInteger(v) && existsSync(join(root, String(v), 'bin', 'initdb')))
        .sort((a, b) => b - a)
    : [];
  const version = versions.includes(preferred) ? preferred : versions[0];
  if (version === undefined) {
    throw new Error(
      'no PostgreSQL server found under /usr/lib/postgresql: install it (apt-get install -y postgresql) or set PG_BIN to the folder holding initdb and pg_ctl',
    );
  }
  return join(root, String(version), 'bin');
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

const asRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs `bin/tool args` as the user who owns the cluster. */
function command(bin: string, tool: string, args: string[]): [string, string[]] {
  const path = join(bin, tool);
  return asRoot() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

/** Servers started by this process and not yet stopped: stopped on exit whatever happens. */
const running = new Set<string>();
let exitHookInstalled = false;

/** Stops the cluster in `dataDir`/data at once and removes `dataDir`. */
function stopNow(bin: string, dataDir: string): void {
  const pgData = join(dataDir, 'data');
  const [file, args] = command(bin, 'pg_ctl', ['-D', pgData, '-m', 'immediate', '-w', 'stop']);
  spawnSync(file, args, { stdio: 'ignore' });
  rmSync(dataDir, { recursive: true, force: true });
}

function installExitHook(bin: string): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dataDir of running) stopNow(bin, dataDir);
  });
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const dataDir = mkdtempSync(join(tmpdir(), 'digits-pg-'));
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dataDir, uid, gid);
  }
  installExitHook(bin);
  running.add(dataDir);
  const port = await freePort();
  const exec = (tool: string, args: string[]) => {
    const [file, argv] = command(bin, tool, args);
    return run(file, argv, { cwd: tmpdir() });
  };
  const pgData = join(dataDir, 'data');
  const start = () =>
    exec('pg_ctl', [
      '-D',
      pgData,
      '-l',
      join(dataDir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      // The socket folder is ours too: nothing outside the temporary folder is touched.
      `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir} -c fsync=off -c full_page_writes=off`,
      'start',
    ]);
  let stopped = false;
  try {
    await exec('initdb', [
      '-D',
      pgData,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '--encoding=UTF8',
      '--locale=C',
    ]);
    await start();
  } catch (err) {
    running.delete(dataDir);
    stopNow(bin, dataDir);
    throw new Error(`could not start a test PostgreSQL: ${String(err)}`, { cause: err });
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pause: async () => {
      await exec('pg_ctl', ['-D', pgData, '-m', 'fast', '-w', 'stop']);
    },
    resume: async () => {
      await start();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running.delete(dataDir);
      try {
        await exec('pg_ctl', ['-D', pgData, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already stopped (paused): nothing to stop.
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
