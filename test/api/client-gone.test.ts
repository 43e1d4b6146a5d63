/**
 * A request whose client goes away stops using the workers within a second (issue 26): its
 * work still waiting is dropped at once, and the piece already at a worker is bounded by
 * what one piece holds. A real listening server with one worker, so that the worker the
 * request held is the only one; /metrics tells when it holds nothing of the request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readyApp } from './contract.ts';
import { dataUrl, drawDigit, saltNoisePng, SEVEN } from './images.ts';

/** 1024x1024 of salt noise: read, a piece of its own that takes a worker some 0.1-0.5 s. */
const noise = dataUrl(saltNoisePng(1024));
const ITEMS = 12;

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = await readyApp({ rateLimit: 0, workers: 1 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
});

async function queue(): Promise<{ requests: number; pieces: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  return { requests: gauge('digits_queue_requests'), pieces: gauge('digits_queue_pieces') };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('frees the worker within 1 s of the client going away mid-request', async () => {
  // Once alone, so the reader's code is warm in the worker, and to know what a piece takes.
  let started = performance.now();
  const one = await fetch(`${base}/api/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: noise }),
  });
  expect(one.status).toBe(422);
  const pieceMs = performance.now() - started;

  const body = JSON.stringify({ items: new Array(ITEMS).fill({ image: noise }) });
  const request = http.request(`${base}/api/read/batch`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const closed = new Promise((resolve) => request.on('close', resolve));
  request.on('error', () => {}); // it is cut off on purpose
  request.end(body);
  // Until a piece of it is at the worker and the rest waits.
  for (let i = 0; i < 2000; i++) {
    const { requests, pieces } = await queue();
    if (requests === 1 && pieces > 0 && pieces < ITEMS) break;
    await pause(5);
  }
  const before = app.inference.recognizedInputs;
  request.destroy();
  started = performance.now();
  await closed;
  let depth = await queue();
  while (depth.requests > 0 && performance.now() - started < 10_000) {
    await pause(10);
    depth = await queue();
  }
  const freedMs = performance.now() - started;
  console.log(
    `one piece of noise alone: ${pieceMs.toFixed(0)} ms; worker free ${freedMs.toFixed(0)} ms after the client went away`,
  );
  expect(depth).toEqual({ requests: 0, pieces: 0 });
  expect(freedMs).toBeLessThan(1000);
  // At most the piece that was at the worker was read for nobody.
  expect(app.inference.recognizedInputs - before).toBeLessThanOrEqual(1);

  const next = await fetch(`${base}/api/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image: dataUrl(drawDigit(SEVEN).png()) }),
  });
  expect(next.status).toBe(200);
});
