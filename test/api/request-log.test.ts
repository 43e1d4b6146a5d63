import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { requestLog } from '../../src/server/request-log.ts';

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

it('end() writes the lines still buffered, and drops the lines logged after it', async () => {
  const file = join(dir, 'end.log');
  const { stream } = requestLog('info', file);
  stream.write('{"msg":"request","n":1}\n'); // far below the buffer: not written yet
  await stream.end(2000);
  stream.write('{"msg":"request","n":2}\n');
  expect(await requestLines(file)).toEqual(['{"msg":"request","n":1}']);
});

/** A pipe (a FIFO here) and its reader, opened without blocking as Node opens its stdout. */
function pipe(name: string): { reader: number; writer: number } {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return { reader, writer: openSync(path, constants.O_WRONLY | constants.O_NONBLOCK) };
}

it('end() gives the last lines up, without waiting, when the reader has gone', async () => {
  const { reader, writer } = pipe('gone.fifo');
  const { stream } = requestLog('info', writer);
  stream.write('{"msg":"request","n":1}\n');
  closeSync(reader); // writes now fail with EPIPE
  const started = performance.now();
  await stream.end(10_000);
  expect(performance.now() - started).toBeLessThan(1000);
});

it('end() gives the last lines up after its timeout when the reader has stopped reading', async () => {
  const { reader, writer } = pipe('stalled.fifo');
  try {
    const { stream } = requestLog('info', writer);
    const line = `{"msg":"request","pad":"${'x'.repeat(1000)}"}\n`;
    for (let i = 0; i < 200; i++) stream.write(line); // 200 kB: more than a pipe holds
    const started = performance.now();
    await stream.end(300);
    expect(performance.now() - started).toBeLessThan(1000);
  } finally {
    closeSync(reader);
  }
});
