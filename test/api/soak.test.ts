/**
 * No input, however bad, leaks: after 1,000 mixed requests (good and bad, single and batch)
 * the workers hold the same live tensors and the process has not grown beyond noise.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectHealthy, readyApp } from './contract.ts';
import {
  dataUrl,
  drawDigit,
  FOUR,
  mnistSeven,
  pngClaiming,
  SEVEN,
  truncatedPng,
  whitePng,
} from './images.ts';

let app: FastifyInstance;

beforeAll(async () => {
  app = await readyApp();
}, 120_000);

afterAll(async () => {
  await app?.close();
});

const post = (url: string, payload: unknown, type = 'application/json'): InjectOptions => ({
  method: 'POST',
  url,
  headers: { 'content-type': type },
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

const seven = dataUrl(drawDigit(SEVEN).png());
const four = dataUrl(drawDigit(FOUR).png());
const pixels = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };

/** One of each kind of request, with the status each must get. */
const MIX: [InjectOptions, number][] = [
  [post('/api/predict', { image: seven }), 200],
  [post('/api/predict', { image: four, ensemble: 'mean' }), 200],
  [
    post('/api/predict', { image: dataUrl(drawDigit(FOUR).jpeg(), 'image/jpeg'), ensemble: 'off' }),
    200,
  ],
  [post('/api/predict', pixels), 200],
  [
    post('/api/predict/batch', {
      items: [{ image: seven }, { image: 'eA==' }, pixels, { image: dataUrl(whitePng()) }],
    }),
    200,
  ],
  [post('/api/predict', '{"image":'), 400],
  [post('/api/predict', { image: seven }, 'text/plain'), 415],
  [post('/api/predict', { pixels: [1, 2, 3], width: 2, height: 2 }), 400],
  [post('/api/predict', { pixels: [0, -1, 0, 0], width: 2, height: 2 }), 400],
  [post('/api/predict', { image: dataUrl(whitePng()) }), 422],
  [post('/api/predict', { image: dataUrl(truncatedPng()) }), 422],
  [post('/api/predict', { image: dataUrl(pngClaiming(100_000, 100_000)) }), 422],
  [post('/api/predict', { image: Buffer.from('not an image').toString('base64') }), 422],
  [{ method: 'GET', url: '/nowhere' }, 404],
];

/** `count` requests of the mix, `concurrency` at a time; checks every status. */
async function run(count: number, concurrency = 8): Promise<void> {
  let next = 0;
  const statuses: string[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const [request, status] = MIX[next++ % MIX.length];
        const res = await app.inject(request);
        if (res.statusCode !== status)
          statuses.push(`${request.url}: ${res.statusCode} ${res.body}`);
      }
    }),
  );
  expect(statuses).toEqual([]);
}

const MB = 1024 * 1024;

// A full collection before each measurement, so that garbage waiting for the collector is
// not mistaken for growth (the test runner does not start Node with --expose-gc).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

async function memory(): Promise<{ rss: number; heap: number }> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 100));
  collectGarbage();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

it('after 1,000 mixed requests, live tensors are unchanged and memory has not grown', async () => {
  // Warm-up: every path once, so that the heaps (wasm's only grows) reach their working size.
  await run(MIX.length * 10);
  const tensorsBefore = app.inference.liveTensors;
  const before = await memory();

  await run(1000);
  // Every worker has reported its count after its latest work.
  await expectHealthy(app);
  const tensorsAfter = app.inference.liveTensors;
  const after = await memory();
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;

  expect(tensorsBefore).toBeGreaterThan(0);
  expect(tensorsAfter).toBe(tensorsBefore);
  expect(metrics).toMatch(new RegExp(`^digits_live_tensors ${tensorsBefore}$`, 'm'));
  console.log(
    `live tensors ${tensorsBefore} -> ${tensorsAfter}; RSS ${Math.round(before.rss / MB)} -> ${Math.round(after.rss / MB)} MB; main heap ${Math.round(before.heap / MB)} -> ${Math.round(after.heap / MB)} MB`,
  );
  // Measured here: the main heap stays within 1-2 MB and the RSS (server and both workers)
  // within a few MB over 1,000 requests; a leak of one decoded 280x280 image per request
  // would be 300 MB.
  expect(after.heap - before.heap).toBeLessThan(16 * MB);
  expect(after.rss - before.rss).toBeLessThan(64 * MB);
}, 240_000);
