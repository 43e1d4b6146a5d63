import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it, vi } from 'vitest';
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

it('keeps a flush timer only while lines wait to be written', async () => {
  const file = join(dir, 'timer.log');
  vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
  try {
    const { stream } = requestLog('info', file);
    expect(vi.getTimerCount()).toBe(0); // an idle app keeps no timer
    stream.write('{"msg":"request","n":1}\n');
    stream.write('{"msg":"request","n":2}\n');
    expect(vi.getTimerCount()).toBe(1); // one flush for all the lines waiting
    let lines: string[] = [];
    for (let i = 0; i < 100 && (lines.length < 2 || vi.getTimerCount() > 0); i++) {
      await vi.advanceTimersByTimeAsync(500);
      await sleep(20); // real time for the file to open and the write to land
      lines = await requestLines(file);
    }
    expect(lines).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0); // written: no timer left behind
  } finally {
    vi.useRealTimers();
  }
});
