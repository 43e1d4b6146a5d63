/**
 * Starts a worker thread from a TypeScript module. Node 20 does not apply a loader given in
 * the parent's execArgv to a worker's entry file, so a tiny bootstrap registers tsx first.
 */
import { Worker } from 'node:worker_threads';

const TSX_API = import.meta.resolve('tsx/esm/api');

export function startTsWorker(url: URL, workerData?: unknown): Worker {
  const bootstrap = `import(${JSON.stringify(TSX_API)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
