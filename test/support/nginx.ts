/**
 * A throwaway nginx (Debian's package) in front of local instances, for the fleet test and
 * bench:rolling. It runs deploy/nginx/digits.conf itself, with the ports swapped for free
 * ones, from a temporary folder (configuration, pid, logs, buffers), in the foreground as
 * our child, and is always stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './postgres.ts';

const SITE = fileURLToPath(new URL('../../deploy/nginx/digits.conf', import.meta.url));
const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface TestNginx {
  readonly url: string;
  readonly port: number;
  /** The access log: one line per request with the upstreams tried and their statuses. */
  accessLog(): string;
  /** nginx's error log: why it could not use an upstream ("Connection refused", …). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * deploy/nginx/digits.conf with its listen port and its upstream servers replaced. Throws if
 * the file no longer has the lines this relies on, so the test never runs another config.
 */
export function siteConfig(listenPort: number, upstreamPorts: readonly number[]): string {
  const text = readFileSync(SITE, 'utf8');
  const servers = [...text.matchAll(/^( *)server 127\.0\.0\.1:\d+( .*;)$/gm)];
  if (servers.length !== upstreamPorts.length || !/^ *listen 8080;$/m.test(text)) {
    throw new Error(
      `${SITE} no longer has "listen 8080;" and ${upstreamPorts.length} upstream servers`,
    );
  }
  let i = 0;
  return text
    .replace(/^( *)listen 8080;$/m, `$1listen 127.0.0.1:${listenPort};`)
    .replace(/^( *)server 127\.0\.0\.1:\d+( .*;)$/gm, (_m, indent: string, rest: string) => {
      return `${indent}server 127.0.0.1:${upstreamPorts[i++]}${rest}`;
    });
}

function waitForPort(port: number, child: ChildProcess, errors: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`nginx exited: ${errors()}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen: ${errors()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startNginx(upstreamPorts: readonly number[]): Promise<TestNginx> {
  if (!existsSync(NGINX)) {
    throw new Error(
      `no nginx at ${NGINX}: install it (apt-get install -y nginx) or set NGINX_PATH`,
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'digits-nginx-'));
  // Run as root, nginx's workers are `nobody`: they need to reach the folder and write buffers.
  chmodSync(dir, 0o755);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, sub));
    chmodSync(join(dir, sub), 0o777);
  }
  writeFileSync(join(dir, 'site.conf'), siteConfig(port, upstreamPorts));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  log_format upstreams '$status $request_method $uri upstream=$upstream_addr statuses=$upstream_status';
  access_log ${dir}/access.log upstreams;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/site.conf;
}
`,
  );
  let errors = '';
  const child = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (errors += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the test process ends early, nginx goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const readLog = (name: string) => {
    const path = join(dir, name);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  };
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // nginx: fast shutdown
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => errors + readLog('error.log'));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessLog: () => readLog('access.log'),
    errorLog: () => readLog('error.log'),
    stop,
  };
}
