/**
 * `npm run bench:adapt`: what adapting to a user's corrections adds to a prediction.
 * 1. In process: src/core/adapt.ts for a user with 100 and with 1,000 corrections.
 * 2. Through the app (inject, 2 workers), with the embedded store and with PostgreSQL:
 *    POST /api/predict of one drawing with and without `user` (100 corrections),
 *    interleaved, p50/p99 of each, and how the app found the corrections (/metrics:
 *    `cached` needs no database round trip).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapt, ADAPTATION, CorrectionMemory } from '../src/core/adapt.ts';
import { buildApp } from '../src/server/app.ts';
import type { StoreConfig } from '../src/store/open.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { dataUrl, drawDigit, flagOne } from '../test/api/images.ts';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};
const f = (ms: number) => `${ms.toFixed(3)} ms`;

// 1. The maths alone, on random ReLU-like 256-value features.
for (const size of [100, 1000]) {
  const memory = new CorrectionMemory(256);
  const random = () => Float32Array.from({ length: 256 }, () => Math.max(0, Math.random() - 0.5));
  for (let i = 0; i < size; i++) memory.add(random(), i % 10);
  const probabilities = Array.from({ length: 10 }, (_, d) => (d === 7 ? 0.91 : 0.01));
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const query = random();
    const start = performance.now();
    adapt({ digit: 7, probabilities }, query, memory, { ...ADAPTATION, minSimilarity: 0 });
    times.push(performance.now() - start);
  }
  const s = stats(times);
  console.log(`adapt() with ${size} corrections: p50 ${f(s.p50)}, p99 ${f(s.p99)}`);
}

// 2. Through the app, on each store.
async function throughApp(name: string, corrections: StoreConfig): Promise<void> {
  const app = await buildApp({ rateLimit: 0, corrections });
  try {
    await app.inference.whenReady();
    const user = 'bench-user-100';
    let n = 0;
    for (let flag = 0; flag < 100; flag++) {
      const strokes = flagOne(20 + (flag % 10) * 8, (flag % 7) * 10, Math.floor(flag / 10) * 4);
      const res = await app.inject({
        method: 'POST',
        url: '/api/corrections',
        payload: { image: dataUrl(drawDigit(strokes).png()), label: flag % 10, user },
      });
      if (res.statusCode !== 201) throw new Error(`correction ${flag}: ${res.body}`);
      n++;
    }
    const image = dataUrl(drawDigit(flagOne(60, 30, 15)).png());
    const time = async (payload: object) => {
      const start = performance.now();
      const res = await app.inject({ method: 'POST', url: '/api/predict', payload });
      if (res.statusCode !== 200) throw new Error(res.body);
      return performance.now() - start;
    };
    for (let i = 0; i < 50; i++) {
      await time({ image });
      await time({ image, user });
    }
    const plain: number[] = [];
    const adapted: number[] = [];
    for (let i = 0; i < 400; i++) {
      plain.push(await time({ image }));
      adapted.push(await time({ image, user }));
    }
    const p = stats(plain);
    const a = stats(adapted);
    console.log(`POST /api/predict (inject, ${name}), user with ${n} corrections, 400 each:`);
    console.log(`  without user: p50 ${f(p.p50)}, p99 ${f(p.p99)}`);
    console.log(`  with user:    p50 ${f(a.p50)}, p99 ${f(a.p99)}`);
    console.log(`  added at p50: ${f(a.p50 - p.p50)}`);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    const lookups = [...metrics.matchAll(/digits_adaptation_lookups_total\{how="(\w+)"\} (\d+)/g)]
      .map(([, how, n]) => `${how} ${n}`)
      .join(', ');
    console.log(`  how the corrections were found (all requests): ${lookups}`);
  } finally {
    await app.close();
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'digits-bench-adapt-'));
const server = await startPostgres();
try {
  await throughApp('embedded store', { dataDir });
  await throughApp('PostgreSQL on loopback', { databaseUrl: server.url });
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
