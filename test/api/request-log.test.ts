import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildApp, requestLog } from '../../src/server/app.ts';

const dir = await mkdtemp(join(tmpdir(), 'digits-log-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const requestLines = async (file: string) =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line.includes('"msg":"request"'));

it('writes the buffered request log within a second, while the server runs', async () => {
  const file = join(dir, 'requests.log');
  const app = await buildApp({ logger: requestLog('info', file), workers: 1 });
  try {
    for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/healthz?token=secret' });
    let lines: string[] = [];
    for (let waited = 0; waited < 2000 && lines.length < 3; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      lines = await requestLines(file);
    }
    expect(lines).toHaveLength(3);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ method: 'GET', path: '/healthz', route: '/healthz' });
    expect(lines[0]).not.toContain('secret');
  } finally {
    await app.close();
  }
});
