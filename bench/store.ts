/**
 * `npm run bench:store`: the corrections store on each database. Opening (first start and
 * restart of the embedded one), adding a correction, listing and versioning a user with 100
 * corrections, p50/p99 over many runs, and the process memory the embedded database adds.
 * PostgreSQL is a throwaway local server (test/support/postgres.ts) on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type StoreConfig } from '../src/store/open.ts';
import { INPUT_BYTES, type CorrectionsStore } from '../src/store/store.ts';
import { startPostgres } from '../test/support/postgres.ts';

const RUNS = 200;
const input = Uint8Array.from({ length: INPUT_BYTES }, (_, i) => (i * 7) % 256);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function time(label: string, run: (i: number) => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run(i);
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `  ${label.padEnd(34)} p50 ${percentile(ms, 50).toFixed(2)} ms  p99 ${percentile(ms, 99).toFixed(2)} ms`,
  );
}

async function measure(name: string, config: StoreConfig): Promise<CorrectionsStore> {
  const rss = process.memoryUsage().rss;
  let start = performance.now();
  let store = await openStore(config);
  console.log(
    `${name}\n  open (first start)                 ${(performance.now() - start).toFixed(0)} ms`,
  );
  await store.close();
  start = performance.now();
  store = await openStore(config);
  console.log(`  open (restart)                     ${(performance.now() - start).toFixed(0)} ms`);
  console.log(
    `  process memory added               ${((process.memoryUsage().rss - rss) / 1e6).toFixed(0)} MB`,
  );
  for (let i = 0; i < 100; i++) await store.add({ user: 'bench-user-100', label: i % 10, input });
  await time('add one correction', (i) =>
    store.add({ user: `bench-add-${i % 50}xx`, label: i % 10, input }),
  );
  await time('list a user with 100', () => store.list('bench-user-100'));
  await time('version of a user with 100', () => store.version('bench-user-100'));
  return store;
}

const dataDir = mkdtempSync(join(tmpdir(), 'digits-bench-store-'));
const server = await startPostgres();
try {
  await (await measure('embedded (PGlite)', { dataDir })).close();
  await (await measure('PostgreSQL 15 (loopback, pg)', { databaseUrl: server.url })).close();
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
