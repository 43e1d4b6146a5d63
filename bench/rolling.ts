/**
 * `npm run bench:rolling`: the fleet of README "A fleet on one machine" under load while
 * both instances are restarted one after the other. A throwaway PostgreSQL, two instances
 * of `npm run serve` (WORKERS=1 each) from a copy pruned to production dependencies, nginx
 * in front with deploy/nginx/digits.conf; autocannon posts a 280x280 canvas PNG to
 * /api/predict through nginx.
 *
 * Two runs of --duration seconds each at --connections: a steady one (no restart) for
 * reference, then the rolling one (restarts begin after --delay seconds). Prints requests/s,
 * p50/p99 latency, failed requests (errors, timeouts, non-2xx), requests nginx sent on to the
 * other instance and why, each instance's CPU and memory in the steady run (the sizes in
 * deploy/kubernetes/), its drain time and its time from start to healthy.
 * Options: --duration (default 20), --connections (default 8), --delay (default 3).
 * Target (issue 13): 0 failed requests.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { dataUrl, drawDigit, SEVEN } from '../test/api/images.ts';
import { Fleet, type RestartTiming } from '../test/support/fleet.ts';
import { startNginx } from '../test/support/nginx.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { productionCopy } from '../test/support/production-copy.ts';
import { killAllStarted } from '../test/support/serve-process.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    connections: { type: 'string', default: '8' },
    delay: { type: 'string', default: '3' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const delay = Number(values.delay);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

function load(url: string, body: string, seconds = duration): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        duration: seconds,
        timeout: 10,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

function report(name: string, result: autocannon.Result, retried: number): void {
  const failed = result.errors + result.timeouts + result.non2xx;
  console.log(
    `${name.padEnd(8)} ${round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, ` +
      `p99 ${result.latency.p99} ms, ${result['2xx']} answered, ${failed} failed ` +
      `(errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}), ` +
      `${retried} sent on to the other instance by nginx`,
  );
}

/** nginx's reasons for giving up on an upstream, counted: refused, reset, closed early, … */
function upstreamErrors(log: string, offset: number): string {
  const counts = new Map<string, number>();
  for (const line of log.slice(offset).split('\n')) {
    const match = / \[error\] \d+#\d+: \*\d+ (.+?) while /.exec(line);
    if (match) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  return [...counts].map(([reason, n]) => `${n} x ${reason}`).join('; ') || 'none';
}

/** CPU seconds a process has used and its resident memory now and at most (Linux /proc). */
function usage(pid: number): { cpuSeconds: number; rssMiB: number; peakMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return {
    cpuSeconds: ticks / CLOCK_TICKS,
    rssMiB: round(kib('VmRSS') / 1024),
    peakMiB: round(kib('VmHWM') / 1024),
  };
}
/** USER_HZ: 100 on every Linux build that matters here. */
const CLOCK_TICKS = 100;

/** Requests that nginx passed to a second upstream after the first failed. */
function retriedSince(log: string, offset: number): number {
  return log
    .slice(offset)
    .split('\n')
    .filter((line) => /upstream=\S+, /.test(line)).length;
}

async function main(): Promise<void> {
  console.log(
    `load average before: ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  const [pg, copy] = await Promise.all([startPostgres(), productionCopy()]);
  copy.addBuiltPage();
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  let fleet: Fleet | undefined;
  try {
    fleet = await Fleet.start({
      dir: copy.dir,
      size: 2,
      env: { WORKERS: '1', RATE_LIMIT: '0', DATABASE_URL: pg.url },
    });
    nginx = await startNginx(fleet.ports);
    const url = `${nginx.url}/api/predict`;
    const body = JSON.stringify({ image: dataUrl(drawDigit(SEVEN).png()) });
    console.log(
      `fleet: 2 x npm run serve (WORKERS=1) behind nginx, ${connections} connections, ${duration} s per run`,
    );

    await load(url, body, 3); // warm-up, untimed
    const pids = fleet.instances.map((instance) => instance.serverPid);
    const before = pids.map(usage);
    let offset = nginx.accessLog().length;
    const steady = await load(url, body);
    const after = pids.map(usage);
    report('steady', steady, retriedSince(nginx.accessLog(), offset));
    after.forEach((u, i) => {
      const cores = (u.cpuSeconds - before[i].cpuSeconds) / duration;
      console.log(
        `  instance ${i + 1}: ${round(cores, 2)} cores busy, resident ${before[i].rssMiB} MiB before, ` +
          `${u.rssMiB} MiB after, ${u.peakMiB} MiB at most`,
      );
    });

    offset = nginx.accessLog().length;
    const errorOffset = nginx.errorLog().length;
    const rolling = load(url, body);
    await sleep(delay * 1_000);
    const timings: RestartTiming[] = await fleet.rollingRestart();
    const result = await rolling;
    report('rolling', result, retriedSince(nginx.accessLog(), offset));
    console.log(`  nginx upstream errors: ${upstreamErrors(nginx.errorLog(), errorOffset)}`);
    for (const t of timings) {
      console.log(
        `  instance ${t.instance + 1}: drained and exited (code ${t.exitCode}) in ${round(t.drainMs)} ms, ` +
          `start to healthy ${round(t.startToHealthyMs)} ms`,
      );
    }
    if (
      timings.reduce((end, t) => end + t.drainMs + t.startToHealthyMs, delay * 1_000) >
      duration * 1_000
    ) {
      console.log('  (the restarts outlasted the run: raise --duration)');
    }
    const starts = fleet.startToHealthyMs.map((ms) => round(ms));
    console.log(
      `npm run serve, spawn to /healthz 200: ${starts.join(', ')} ms (median ${median(starts)} ms)`,
    );
    console.log(
      `load average after: ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await fleet?.stop().catch(() => {});
    killAllStarted();
    await nginx?.stop();
    await pg.stop();
    copy.remove();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : round((sorted[mid - 1] + sorted[mid]) / 2);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
