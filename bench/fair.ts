/**
 * `npm run bench:fair`: one client floods, another draws, on a real server (issues 14, 26).
 *
 * The server (src/server/main.ts, rate limits off) runs in a child process, so that the
 * clients' own work does not share its event loop. Two floods (`--scenario`, default both,
 * one after the other, each on a server of its own). For `--seconds`:
 * - `canvas` (issue 14): the flooder (from 127.0.0.1) keeps `--flood` batches of 256 images of
 *   2048x2048 (canvas PNGs of about 20 KB, a digit drawn in the middle) in flight, sending
 *   the next batch as soon as one is answered, refused or failed (after `--retry-ms`); the
 *   small client (from 127.0.0.2) sends one 280x280 canvas digit every 100 ms, whether or
 *   not the previous one was answered; the server's request log goes to /dev/null.
 * - `bars` (issue 26): the same flooder with 2048x2048 PNGs of a 40x200 bar on white, deflated
 *   at level 9; the small client sends a digit, waits for its answer, waits 100 ms, sends the
 *   next; the server's request log is piped to this process (as `npm start` under a
 *   supervisor), which reads it.
 * /healthz is polled every second; the server's RSS sampled every 250 ms. Afterwards: the
 * server must be healthy and hold the live tensors it held before. The server's event-loop
 * delay over the run (from its /metrics) is printed.
 *
 * Targets: `canvas`: the small client's p99 <= 150 ms; `bars`: its p50 <= 20 ms and p99 <=
 * 100 ms; both: no error for the small client; every flooder request answered or
 * refused (429/503), none over 30 s, none cut off before its answer was read (EPIPE); RSS
 * < 1.5 GB; healthy afterwards, live tensors unchanged. The flooder's times are counted from
 * when its request had a connection (its four are often busy finishing a refused upload),
 * and the wait for one is printed beside them.
 * Options: --scenario (canvas, bars or both: default both), --seconds (default 20), --flood
 * (batches in flight, default 4), --images (per batch, default 256), --retry-ms (pause after
 * a refusal, default 0: retry at once), --workers (default one per core), --cpu-prof <dir>
 * (the server's CPU profiles, its threads', written there when it exits).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createCanvas } from '@napi-rs/canvas';
import { PNG } from 'pngjs';
import { startTsWorker } from '../src/node/ts-worker.ts';
import { freePort } from '../test/support/postgres.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    flood: { type: 'string', default: '4' },
    images: { type: 'string', default: '256' },
    'retry-ms': { type: 'string', default: '0' },
    workers: { type: 'string' },
    scenario: { type: 'string', default: 'both' },
    'cpu-prof': { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const FLOOD = Number(values.flood);
const IMAGES = Number(values.images);
const RETRY_MS = Number(values['retry-ms']);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SMALL_EVERY_MS = 100;
const REQUEST_TIMEOUT_MS = 60_000;

/** One flood: what the flooder sends, how the small client paces itself, where logs go. */
interface Scenario {
  readonly name: 'canvas' | 'bars';
  /** The flooder's 2048x2048 PNG, and a few words on it. */
  readonly big: () => Buffer;
  readonly bigWords: string;
  /**
   * `every`: a digit every SMALL_EVERY_MS whether or not the last was answered; `after`: the
   * next digit SMALL_EVERY_MS after the last one's answer.
   */
  readonly pace: 'every' | 'after';
  /** The server's stdout: dropped, or piped to this process and read. */
  readonly log: 'ignore' | 'pipe';
  readonly p50Ms?: number;
  readonly p99Ms: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'canvas',
    big: () => digitPng(2048, 420),
    bigWords: 'canvas PNGs of a digit',
    pace: 'every',
    log: 'ignore',
    p99Ms: 150,
  },
  {
    name: 'bars',
    big: () => barPng(2048),
    bigWords: 'PNGs of a 40x200 bar, deflate level 9',
    pace: 'after',
    log: 'pipe',
    p50Ms: 20,
    p99Ms: 100,
  },
];

/** A canvas PNG with a "4" drawn in a `box`-pixel square in the middle of a `size` canvas. */
function digitPng(size: number, box: number): Buffer {
  const canvas = createCanvas(size, size);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, size, size);
  const scale = box / 280;
  const offset = (size - box) / 2;
  const at = (x: number, y: number): [number, number] => [offset + x * scale, offset + y * scale];
  g.strokeStyle = '#000';
  g.lineWidth = 18 * scale;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  g.beginPath();
  g.moveTo(...at(170, 50));
  g.lineTo(...at(80, 170));
  g.lineTo(...at(200, 170));
  g.moveTo(...at(170, 50));
  g.lineTo(...at(170, 235));
  g.stroke();
  return canvas.toBuffer('image/png');
}

/** `size` x `size` of white with a 40x200 black bar in the middle, deflated at level 9. */
function barPng(size: number): Buffer {
  const png = new PNG({ width: size, height: size });
  png.data.fill(255);
  const left = (size - 40) / 2;
  const top = (size - 200) / 2;
  for (let y = top; y < top + 200; y++)
    for (let x = left; x < left + 40; x++)
      png.data.fill(0, 4 * (y * size + x), 4 * (y * size + x) + 3);
  return PNG.sync.write(png, { deflateLevel: 9 });
}

const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

interface Answer {
  readonly status: number; // 0: failed without an answer
  readonly ms: number;
  /**
   * Of `ms`, the time spent waiting for one of the agent's connections (the flooder's four
   * are busy sending earlier uploads): the client's own queue, not the server's answer.
   */
  readonly queued: number;
  /** When it was sent (performance.now()). */
  readonly sent: number;
  readonly body: string;
  readonly retryAfter?: string;
}

/** One POST or GET from `localAddress` (a loopback address: the client's identity). */
function request(
  port: number,
  path: string,
  localAddress: string,
  agent: http.Agent,
  body?: Buffer,
): Promise<Answer> {
  const start = performance.now();
  let queued = 0;
  let answered = false;
  return new Promise((resolve) => {
    const failed = (err: Error) =>
      resolve({ status: 0, ms: performance.now() - start, queued, sent: start, body: String(err) });
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body ? 'POST' : 'GET',
        localAddress,
        agent,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': body.length }
          : undefined,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: performance.now() - start,
            queued,
            sent: start,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfter: res.headers['retry-after'] as string | undefined,
          }),
        );
        res.on('error', failed);
      },
    );
    req.once('socket', () => (queued = performance.now() - start));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    // An upload that fails after its answer arrived (the server cut it off) is answered: the
    // answer is what counts. One that fails before is a request with no answer (EPIPE).
    req.on('error', (err) => {
      if (!answered) failed(err);
    });
    req.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function liveTensors(port: number, agent: http.Agent): Promise<number> {
  const res = await request(port, '/metrics', '127.0.0.3', agent);
  return Number(/^digits_live_tensors (\d+)$/m.exec(res.body)?.[1]);
}

function metric(text: string, pattern: RegExp): string {
  return pattern.exec(text)?.[1] ?? '?';
}

function eventLoopDelay(text: string): string {
  const ms = (name: string) => {
    const seconds = Number(
      metric(text, new RegExp(`^nodejs_eventloop_lag_${name}_seconds ([\\d.e+-]+)$`, 'm')),
    );
    return Number.isFinite(seconds) ? (seconds * 1000).toFixed(1) : '?';
  };
  return `p50 ${ms('p50')} ms, p99 ${ms('p99')} ms, max ${ms('max')} ms`;
}

/** Runs one scenario on a server of its own; whether every target was met. */
async function runScenario(scenario: Scenario): Promise<boolean> {
  const port = await freePort();
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
  const server = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      RATE_LIMIT: '0', // every rate limit off: the scheduler and the shedding are measured
      ...(values.workers ? { WORKERS: values.workers } : {}),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', scenario.log, 'inherit'],
  });
  // A supervisor's pipe: read, line by line, as a log shipper does.
  let logBytes = 0;
  server.stdout?.on('data', (chunk: Buffer) => (logBytes += chunk.length));
  const serverExit = new Promise<void>((resolve) => server.on('exit', () => resolve()));
  const pid = server.pid as number;
  const monitor = new http.Agent({ keepAlive: true });
  try {
    for (let i = 0; ; i++) {
      const res = await request(port, '/healthz', '127.0.0.3', monitor);
      if (res.status === 200) break;
      if (i > 1200 || server.exitCode !== null) throw new Error('the server did not become ready');
      await sleep(100);
    }

    const big = scenario.big();
    const small = digitPng(280, 280);
    const bigBody = Buffer.from(
      JSON.stringify({ items: new Array<{ image: string }>(IMAGES).fill({ image: dataUrl(big) }) }),
    );
    const smallBody = Buffer.from(JSON.stringify({ image: dataUrl(small) }));
    const tensorsBefore = await liveTensors(port, monitor);
    const rssBefore = rssOf(pid);
    console.log(`\n=== ${scenario.name} ===`);
    console.log(
      `flooder (127.0.0.1): ${FLOOD} x ${IMAGES} images of 2048x2048, ${scenario.bigWords} (PNG ${(big.length / 1024).toFixed(1)} KB, body ${(bigBody.length / 1e6).toFixed(1)} MB) in flight; small client (127.0.0.2): a 280x280 digit ${scenario.pace === 'every' ? `every ${SMALL_EVERY_MS} ms` : `${SMALL_EVERY_MS} ms after each answer`}; server log ${scenario.log === 'pipe' ? 'piped to this process' : 'to /dev/null'}; ${SECONDS} s`,
    );
    console.log(
      `load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );

    const begin = performance.now();
    const end = begin + SECONDS * 1000;
    const flooderAgent = new http.Agent({ keepAlive: true, maxSockets: FLOOD });
    const flood: Answer[] = [];
    const health: Answer[] = [];
    let rssMax = rssBefore;

    const flooders = Array.from({ length: FLOOD }, async () => {
      while (performance.now() < end) {
        const answer = await request(
          port,
          '/api/predict/batch',
          '127.0.0.1',
          flooderAgent,
          bigBody,
        );
        flood.push(answer);
        if (answer.status !== 200 && RETRY_MS > 0) await sleep(RETRY_MS);
      }
    });
    // The small client has a thread of its own: the flooder's uploads must not delay its
    // requests or its clock on this side.
    const smallWorker = startTsWorker(new URL(import.meta.url), {
      port,
      seconds: SECONDS,
      body: smallBody.toString('utf8'),
      pace: scenario.pace,
    } satisfies SmallClient);
    const smallDone = new Promise<Answer[]>((resolve, reject) => {
      smallWorker.once('message', resolve);
      smallWorker.once('error', reject);
    });
    const healthTimer = setInterval(() => {
      void request(port, '/healthz', '127.0.0.3', monitor).then((answer) => health.push(answer));
    }, 1000);
    const rssTimer = setInterval(() => {
      rssMax = Math.max(rssMax, rssOf(pid));
    }, 250);

    const [smallAnswers] = await Promise.all([smallDone, ...flooders]);
    await smallWorker.terminate();
    clearInterval(healthTimer);
    clearInterval(rssTimer);
    rssMax = Math.max(rssMax, rssOf(pid));
    flooderAgent.destroy();
    // Read first: prom-client's event-loop delay covers the time since the previous scrape.
    const metrics = (await request(port, '/metrics', '127.0.0.3', monitor)).body;

    const healthAfter = await request(port, '/healthz', '127.0.0.3', monitor);
    const check = await request(port, '/api/predict', '127.0.0.2', monitor, smallBody);
    const tensorsAfter = await liveTensors(port, monitor);
    const rssAfter = rssOf(pid);

    // The small client.
    const smallMs = smallAnswers.map((a) => a.ms).sort((a, b) => a - b);
    const smallErrors = smallAnswers.filter((a) => a.status !== 200);
    const p50 = percentile(smallMs, 50);
    const p99 = percentile(smallMs, 99);
    console.log('');
    console.log(
      `small client: ${smallAnswers.length} requests, ${smallErrors.length} errors; p50 ${p50.toFixed(1)} ms, p90 ${percentile(smallMs, 90).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${smallMs[smallMs.length - 1].toFixed(1)} ms`,
    );
    const slowest = [...smallAnswers].sort((a, b) => b.ms - a.ms).slice(0, 5);
    console.log(
      `  slowest: ${slowest.map((a) => `${a.ms.toFixed(0)} ms at ${(a.sent / 1000).toFixed(1)} s`).join(', ')}`,
    );
    for (const error of smallErrors.slice(0, 3))
      console.log(`  error: ${error.status} ${error.body.slice(0, 200)}`);

    // The flooder.
    // Each request's time from when it had a connection: the server's part.
    const byStatus = new Map<number, number[]>();
    for (const answer of flood)
      byStatus.set(answer.status, [
        ...(byStatus.get(answer.status) ?? []),
        answer.ms - answer.queued,
      ]);
    const floodMax = Math.max(...flood.map((a) => a.ms));
    const queuedMs = flood.map((a) => a.queued).sort((a, b) => a - b);
    console.log(
      `flooder: ${flood.length} requests, longest ${(floodMax / 1000).toFixed(1)} s (from the call); waiting for one of its ${FLOOD} connections p50 ${percentile(queuedMs, 50).toFixed(0)} ms, max ${queuedMs[queuedMs.length - 1].toFixed(0)} ms; by answer, from having a connection:`,
    );
    for (const [status, times] of [...byStatus].sort((a, b) => a[0] - b[0])) {
      times.sort((a, b) => a - b);
      console.log(
        `  ${status || 'no answer'}: ${times.length}, p50 ${percentile(times, 50).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms, max ${times[times.length - 1].toFixed(0)} ms`,
      );
    }
    const failure = flood.find((a) => a.status === 0);
    if (failure) console.log(`  a request with no answer: ${failure.body.slice(0, 200)}`);
    const cut = flood.filter((a) => a.status === 0 && /EPIPE|ECONNRESET/.test(a.body)).length;
    console.log(`  uploads cut before their answer was read (EPIPE/ECONNRESET): ${cut}`);
    const refusal = flood.find((a) => a.status === 429 || a.status === 503);
    if (refusal)
      console.log(
        `  a refusal: ${refusal.status} Retry-After ${refusal.retryAfter}: ${refusal.body.slice(0, 200)}`,
      );
    const recognized = (byStatus.get(200)?.length ?? 0) * IMAGES;
    console.log(
      `  images recognized for the flooder: ${recognized} (${(recognized / SECONDS).toFixed(0)} a second)`,
    );

    const healthMs = health.map((a) => a.ms).sort((a, b) => a - b);
    const healthBad = health.filter((a) => a.status !== 200).length;
    console.log(
      `/healthz during the run: ${health.length} polls, ${healthBad} not 200, max ${healthMs[healthMs.length - 1]?.toFixed(1)} ms`,
    );
    console.log(
      `server RSS: ${(rssBefore / 1e6).toFixed(0)} MB before, max ${(rssMax / 1e6).toFixed(0)} MB, ${(rssAfter / 1e6).toFixed(0)} MB after`,
    );
    console.log(
      `afterwards: /healthz ${healthAfter.status}, a prediction ${check.status}; live tensors ${tensorsBefore} before, ${tensorsAfter} after`,
    );
    console.log(`server's event-loop delay over the run: ${eventLoopDelay(metrics)}`);
    if (scenario.log === 'pipe')
      console.log(`server log read from its pipe: ${(logBytes / 1024).toFixed(0)} KB`);
    console.log(
      `shed (server's count): client_share ${metric(metrics, /^digits_shed_requests_total\{reason="client_share"\} (\d+)/m)}, overloaded ${metric(metrics, /^digits_shed_requests_total\{reason="overloaded"\} (\d+)/m)}`,
    );
    console.log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );

    const floodOk = flood.every((a) => [200, 429, 503].includes(a.status)) && floodMax <= 30_000;
    const targets: [string, boolean][] = [
      ...(scenario.p50Ms === undefined
        ? []
        : [
            [`small client p50 <= ${scenario.p50Ms} ms`, p50 <= scenario.p50Ms] as [
              string,
              boolean,
            ],
          ]),
      [`small client p99 <= ${scenario.p99Ms} ms`, p99 <= scenario.p99Ms],
      ['small client: no error', smallErrors.length === 0],
      ['flooder: answers or 429/503 only, none over 30 s', floodOk],
      ['server RSS < 1.5 GB', rssMax < 1.5e9],
      ['healthy afterwards', healthAfter.status === 200 && check.status === 200],
      ['live tensors as before', tensorsAfter === tensorsBefore],
    ];
    console.log('');
    for (const [name, met] of targets)
      console.log(`${met ? 'met    ' : 'MISSED '} ${scenario.name}: ${name}`);
    return targets.every(([, met]) => met);
  } finally {
    monitor.destroy();
    server.kill('SIGTERM');
    await Promise.race([serverExit, sleep(20_000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const chosen = SCENARIOS.filter((s) => values.scenario === 'both' || s.name === values.scenario);
  if (chosen.length === 0)
    throw new Error(`--scenario is canvas, bars or both, not ${values.scenario}`);
  let allMet = true;
  for (const scenario of chosen) allMet = (await runScenario(scenario)) && allMet;
  process.exitCode = allMet ? 0 : 1;
}

/** What the small client's thread is given. */
interface SmallClient {
  readonly port: number;
  readonly seconds: number;
  readonly body: string;
  readonly pace: Scenario['pace'];
}

/**
 * The small client, in its own thread: a digit every SMALL_EVERY_MS, whether or not the
 * previous one was answered (`every`), or SMALL_EVERY_MS after the previous one's answer
 * (`after`); posts every answer (`sent`: ms after its start) when done.
 */
async function smallClient({ port, seconds, body, pace }: SmallClient): Promise<void> {
  const agent = new http.Agent({ keepAlive: true });
  const bytes = Buffer.from(body);
  const begin = performance.now();
  const sent: Promise<Answer>[] = [];
  while (performance.now() - begin < seconds * 1000) {
    const answer = request(port, '/api/predict', '127.0.0.2', agent, bytes).then((answer) => ({
      ...answer,
      sent: answer.sent - begin,
    }));
    sent.push(answer);
    if (pace === 'after') {
      await answer;
      await sleep(SMALL_EVERY_MS);
    } else {
      const next = begin + sent.length * SMALL_EVERY_MS;
      await sleep(Math.max(0, next - performance.now()));
    }
  }
  const answers = await Promise.all(sent);
  agent.destroy();
  parentPort?.postMessage(answers);
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  void smallClient(workerData as SmallClient);
}
