/**
 * `npm run serve` as a terminal or a container runtime stops it (design.md, "Running it"):
 * the whole process group is signalled, so node receives the signal twice (directly and
 * relayed by npm). The drain must still run to its end, everything must exit 0, and no
 * process may outlive npm, even when npm itself is killed.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mnistSeven } from './images.ts';
import {
  groupAlive,
  killAllStarted,
  killGroup,
  processAlive,
  sleep,
  startServe,
  waitHealthy,
  waitUntilGone,
  type ServeProcess,
} from '../support/serve-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function serve(env: Record<string, string> = {}): Promise<ServeProcess> {
  return startServe({
    command: ['npm', 'run', 'serve'],
    cwd: ROOT,
    env: { PORT: '0', HOST: '127.0.0.1', RATE_LIMIT: '0', WORKERS: '1', ...env },
  }).then(async (server) => {
    await waitHealthy(server.url);
    return server;
  });
}

// The three servers start together (each test stops its own): starting is most of the time.
let servers: Promise<ServeProcess>[];
beforeAll(() => {
  servers = [serve({ SHUTDOWN_DELAY_MS: '3000' }), serve(), serve()];
  // A test awaits its own; a failed start is reported there, not as an unhandled rejection.
  for (const server of servers) server.catch(() => {});
});
afterAll(killAllStarted);

const messages = (server: ServeProcess) => server.lines.map((line) => String(line.msg));

/** Waits until the server has logged `msg` (its log is flushed within half a second). */
async function logged(server: ServeProcess, msg: string): Promise<void> {
  for (let waited = 0; !messages(server).includes(msg); waited += 20) {
    if (waited > 10_000) throw new Error(`the server never logged "${msg}"`);
    await sleep(20);
  }
}

it('SIGTERM to the whole group: /healthz 503 at once, the work in flight finishes, npm and node exit 0, nothing is left', async () => {
  const server = await servers[0];
  const item = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };
  const predict = (items: number) =>
    fetch(`${server.url}/api/predict/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: new Array(items).fill(item) }),
    });
  const batch = predict(256);
  for (;;) {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    if (Number(/^digits_inference_queued_images (\d+)/m.exec(metrics)?.[1]) > 0) break;
    await sleep(5);
  }
  killGroup(server.pgid, 'SIGTERM');
  await logged(server, 'shutting down: finishing the requests in flight');
  // Again, as a runtime or an impatient person does (npm relays each one once more, but the
  // kernel may merge a relayed signal with the one still pending).
  killGroup(server.pgid, 'SIGTERM');
  await logged(server, 'already shutting down: the drain goes on (SIGKILL stops it at once)');

  // Draining: the health check fails, while requests are still served.
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(503);
  expect(health.headers.get('connection')).toBe('close');
  const during = await predict(1);
  expect(during.status).toBe(200);

  const res = await batch;
  expect(res.status).toBe(200);
  expect(((await res.json()) as { results: unknown[] }).results).toHaveLength(256);
  expect(await server.exit).toEqual({ code: 0, signal: null });
  expect(groupAlive(server.pgid)).toBe(false);
  expect(messages(server).at(-1)).toBe('stopped');
  expect(server.stderr()).toBe('');
});

it('SIGINT to the whole group (Ctrl-C) exits 0 with nothing left', async () => {
  const server = await servers[1];
  killGroup(server.pgid, 'SIGINT');
  expect(await server.exit).toEqual({ code: 0, signal: null });
  expect(groupAlive(server.pgid)).toBe(false);
  expect(messages(server)).toContain('stopped');
});

it('when npm is killed outright, the server notices and exits too', async () => {
  const server = await servers[2];
  expect(server.serverPid).not.toBe(server.child.pid);
  server.child.kill('SIGKILL');
  await server.exit;
  await waitUntilGone('the orphaned server', () => processAlive(server.serverPid), 10_000);
  expect(messages(server)).toEqual(
    expect.arrayContaining(['shutting down: finishing the requests in flight', 'stopped']),
  );
  expect(server.lines.find((line) => line.reason === 'parent-exited')).toBeDefined();
});
