/**
 * `npm run serve` whose log reader has gone (issue #26): a log shipper that dies, a restarted
 * supervisor or a test harness held the other end of its stdout and stderr, and the whole
 * group is signalled as it goes. Writes to those pipes now fail (EPIPE: Node ignores SIGPIPE),
 * with log lines still buffered; the server must stop all the same, and cleanly.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import {
  groupAlive,
  killAllStarted,
  killGroup,
  startServe,
  waitHealthy,
  waitUntilGone,
} from '../support/serve-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

afterAll(killAllStarted);

it('SIGTERM after the reader of stdout and stderr has gone: every process is gone within 20 s, exit 0', async () => {
  const server = await startServe({
    command: ['npm', 'run', 'serve'],
    cwd: ROOT,
    env: { PORT: '0', HOST: '127.0.0.1', RATE_LIMIT: '0', WORKERS: '1' },
  });
  await waitHealthy(server.url);
  // A line the server has still to write when it stops (its log is flushed every 0.5 s).
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

  // The parent's ends of both pipes close, as when the parent exits.
  server.child.stdout?.destroy();
  server.child.stderr?.destroy();
  killGroup(server.pgid, 'SIGTERM');

  await waitUntilGone("the server's processes", () => groupAlive(server.pgid), 20_000);
  expect(await server.exit).toEqual({ code: 0, signal: null });
});
