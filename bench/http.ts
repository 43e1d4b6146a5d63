/**
 * `npm run bench:http`: requests/s and latency of POST /api/predict (ensemble vote) on
 * loopback, at 1 and 8 connections, each bounded in time, with memory and live tensors
 * before and after. The app runs in this process with rate limiting off and its request log
 * written to /dev/null; autocannon fires from its own worker thread so that it does not share
 * the server's event loop.
 *
 * Options: --duration <seconds per run> (default 10), --connections <list> (default 1,8),
 * --warmup <seconds of untimed load at the most connections first> (default 5),
 * --workers <inference threads> (default one per core), --model <folder> (default the shipped model).
 * Targets (issue #5): >= 500 req/s at 8 connections with p99 < 50 ms.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createCanvas } from '@napi-rs/canvas';
import autocannon from 'autocannon';
import { buildApp } from '../src/server/app.ts';
import { requestLog } from '../src/server/request-log.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '1,8' },
    workers: { type: 'string' },
    model: { type: 'string' },
  },
});
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const connectionCounts = values.connections.split(',').map(Number);

/** A 280x280 canvas snapshot of a "4", as the web page sends it: black round strokes on white. */
function digitDataUrl(): string {
  const canvas = createCanvas(280, 280);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, 280, 280);
  g.strokeStyle = '#000';
  g.lineWidth = 18;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  g.beginPath();
  g.moveTo(170, 50);
  g.lineTo(80, 170);
  g.lineTo(200, 170);
  g.moveTo(170, 50);
  g.lineTo(170, 235);
  g.stroke();
  return `data:image/png;base64,${canvas.toBuffer('image/png').toString('base64')}`;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

// Memory is read after a full collection, so that garbage is not counted as growth.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

function rss(): number {
  collectGarbage();
  return process.memoryUsage().rss;
}

async function main(): Promise<void> {
  const app = await buildApp({
    rateLimit: 0,
    // Logging as `npm start` does (a line per request), into /dev/null: its cost is counted.
    logger: requestLog('info', '/dev/null'),
    workers: values.workers ? Number(values.workers) : undefined,
    modelDir: values.model,
  });
  await app.inference.whenReady();
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `${address}/api/predict`;
  const body = JSON.stringify({ image: digitDataUrl(), ensemble: 'vote' });

  const check = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const answer = (await check.json()) as { digit?: number; confidence?: number };
  if (check.status !== 200) throw new Error(`POST /api/predict answered ${check.status}`);

  console.log(`POST ${url}: a 280x280 PNG (${body.length} bytes of JSON), ensemble vote`);
  console.log(`recognized ${answer.digit} (confidence ${answer.confidence?.toFixed(3)})`);
  console.log(
    `${cpus().length} cores, ${app.inference.size} inference workers, load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const before = { rss: rss(), tensors: app.inference.liveTensors };

  const load = (connections: number, seconds: number) =>
    autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration: seconds,
      // Its own thread: the load generator must not steal the server's event loop.
      workers: 1,
    });
  // A server that has been up a while: the first seconds under load pay for JIT compilation
  // and the workers' first batched passes (about 10% fewer requests in a cold first run).
  if (warmup > 0) await load(Math.max(...connectionCounts), warmup);

  const rows: string[] = [];
  for (const connections of connectionCounts) {
    const cpuStart = process.cpuUsage();
    const eluStart = performance.eventLoopUtilization();
    const result = await load(connections, duration);
    const cpu = process.cpuUsage(cpuStart);
    const elu = performance.eventLoopUtilization(eluStart);
    const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / Math.max(1, result.requests.total);
    // The server's own thread (autocannon has a thread of its own): how busy its event loop was.
    const mainMsPerRequest = elu.active / Math.max(1, result.requests.total);
    const bad = result.non2xx + result.errors + result.timeouts;
    rows.push(
      `${String(connections).padStart(11)}  ${result.requests.average.toFixed(0).padStart(5)}  ${String(result.latency.p50).padStart(7)}  ${String(result.latency.p99).padStart(7)}  ${String(result.requests.total).padStart(8)}  ${cpuMsPerRequest.toFixed(2).padStart(6)}  ${mainMsPerRequest.toFixed(2).padStart(7)}  ${(elu.utilization * 100).toFixed(0).padStart(5)}%  ${bad}`,
    );
    console.log(
      `${connections} connection(s): ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${cpuMsPerRequest.toFixed(2)} ms of CPU per request, event loop busy ${mainMsPerRequest.toFixed(2)} ms per request (${(elu.utilization * 100).toFixed(0)}%)${bad ? `, ${bad} failed` : ''}`,
    );
  }
  const after = { rss: rss(), tensors: app.inference.liveTensors };
  await app.close();

  console.log('');
  console.log(
    `connections  req/s  p50 ms  p99 ms  requests  cpu ms  loop ms  loop  failed   (${duration} s each; cpu: process CPU time per request, load generator included; loop: the server's event loop busy, per request and in all)`,
  );
  for (const row of rows) console.log(row);
  console.log(
    `RSS (server, its workers and the load generator): ${mb(before.rss)} before, ${mb(after.rss)} after`,
  );
  console.log(`live tensors: ${before.tensors} before, ${after.tensors} after`);
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
