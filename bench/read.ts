/**
 * npm run bench:read -- [--n N] [--duration S] [--connections C] [--pendigits DIR]
 *
 * Reading a number: p50/p99 of Recognizer.read in-process (one wasm thread) for 1-, 5- and
 * 10-digit numbers, spaced and tight, written by the pen-digit validation writers
 * (src/data/compose-numbers.ts), with 10 variants per digit and with the ensemble off, by
 * the line reader and by the segmenter; then over HTTP (POST /api/read on loopback,
 * autocannon, 2 and C connections, S seconds each), beside POST /api/predict of one digit
 * measured in the same session; a photo of a page of 10 numbers read line by line
 * (in-process and over HTTP), and 2048x2048 of salt noise sent to POST /api/read (refused).
 * Figures, not a timed test: record them in docs/benchmarks.md with the load average printed.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { PNG } from 'pngjs';
import type { GrayBitmap } from '../src/core/preprocess.ts';
import { Random } from '../src/core/random.ts';
import type { Ensemble } from '../src/core/vote.ts';
import { loadPendigits } from '../src/data/pendigits.ts';
import { composeNumber, DigitBank, type NumberKind } from '../src/data/compose-numbers.ts';
import { numberPad, renderStrokes, renderStrokesPng } from '../src/node/render-strokes.ts';
import { loadRecognizer } from '../src/recognizer/node.ts';
import { buildApp } from '../src/server/app.ts';
import { requestLog } from '../src/server/request-log.ts';
import { isValidationWriter, PEN_DIGITS } from '../src/training/config.ts';
import { saltNoisePng } from '../test/api/images.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '300' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    pendigits: { type: 'string' },
  },
});
const n = Number(values.n);
const duration = Number(values.duration);
const connections = Number(values.connections);

/** Numbers to cycle through, so that no single drawing's shape decides the figure. */
const SAMPLES = 20;

function percentiles(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const digits = (await loadPendigits(values.pendigits)).filter((d) =>
    isValidationWriter(d.writer, PEN_DIGITS.validationWriters),
  );
  const bank = new DigitBank(digits);
  const rng = new Random(5);
  const numbers = (kind: NumberKind, length: number) =>
    Array.from({ length: SAMPLES }, () => composeNumber(bank, rng, { kind, length }));

  const recognizer = await loadRecognizer();
  console.log(`in-process, one wasm thread; ${n} readings each (after 30 untimed); load ${load()}`);
  console.log('number             reader     ensemble   p50 ms   p99 ms');
  for (const kind of ['spaced', 'tight'] as const) {
    for (const length of [1, 5, 10]) {
      const set = numbers(kind, length);
      const bitmaps: GrayBitmap[] = [];
      for (const c of set) bitmaps.push(await renderStrokes(c.strokes, numberPad(c)));
      for (const reader of ['line', 'segmenter'] as const) {
        for (const ensemble of ['vote', 'off'] as Ensemble[]) {
          const options = { ensemble, segment: reader === 'segmenter' };
          for (let i = 0; i < 30; i++) recognizer.read(bitmaps[i % SAMPLES], options);
          const times: number[] = [];
          for (let i = 0; i < n; i++) {
            const t = performance.now();
            recognizer.read(bitmaps[i % SAMPLES], options);
            times.push(performance.now() - t);
          }
          const { p50, p99 } = percentiles(times);
          console.log(
            `${`${length} digits, ${kind}`.padEnd(18)} ${reader.padEnd(10)} ${ensemble.padEnd(8)} ${p50.toFixed(2).padStart(8)} ${p99.toFixed(2).padStart(8)}`,
          );
        }
      }
    }
  }

  // A photo of a page of 10 numbers: the lines stacked, halved, on grey patterned paper.
  const pages: { page: GrayBitmap; texts: string[] }[] = [];
  for (let p = 0; p < 5; p++) {
    const lines = Array.from({ length: 10 }, () =>
      composeNumber(bank, rng, { kind: 'spaced', length: 3 + rng.int(6) }),
    );
    const drawn: GrayBitmap[] = [];
    for (const c of lines) drawn.push(await renderStrokes(c.strokes, numberPad(c)));
    pages.push({ page: photographedPage(drawn), texts: lines.map((c) => c.text) });
  }
  const { width, height } = pages[0].page;
  for (let i = 0; i < 5; i++) recognizer.read(pages[i % 5].page, { layout: 'lines' });
  const pageTimes: number[] = [];
  let linesRight = 0;
  for (let i = 0; i < 20; i++) {
    const { page, texts } = pages[i % 5];
    const t = performance.now();
    const reading = recognizer.read(page, { layout: 'lines' });
    pageTimes.push(performance.now() - t);
    if (i < 5) linesRight += texts.filter((text, k) => reading.lines?.[k]?.text === text).length;
  }
  const page = percentiles(pageTimes);
  console.log(
    `a photo of a page of 10 numbers (about ${width}x${height}, 3-8 digits a line), layout "lines", vote: ` +
      `p50 ${page.p50.toFixed(1)} ms, p99 ${page.p99.toFixed(1)} ms; lines read right ${linesRight}/50`,
  );

  const app = await buildApp({ rateLimit: 0, logger: requestLog('info', '/dev/null') });
  await app.inference.whenReady();
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const one = numbers('spaced', 1)[0];
  const bodies = [
    { name: 'POST /api/predict, one digit', url: '/api/predict', number: one },
    { name: 'POST /api/read, one digit', url: '/api/read', number: one },
    { name: 'POST /api/read, 5 digits', url: '/api/read', number: numbers('spaced', 5)[0] },
    { name: 'POST /api/read, 10 digits', url: '/api/read', number: numbers('spaced', 10)[0] },
  ];
  const pagePng = grayPng(pages[0].page).toString('base64');
  const pageBody = JSON.stringify({ image: `data:image/png;base64,${pagePng}`, layout: 'lines' });
  for (let i = 0; i < 3; i++)
    await app.inject({
      method: 'POST',
      url: '/api/read',
      headers: { 'content-type': 'application/json' },
      payload: pageBody,
    });
  const served: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const res = await fetch(`${address}/api/read`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: pageBody,
    });
    await res.json();
    served.push(performance.now() - t);
  }
  const servedPage = percentiles(served);
  console.log(
    `\nPOST /api/read of that page as a PNG (${(pagePng.length / 1024).toFixed(0)} KB of base64), one at a time: ` +
      `p50 ${servedPage.p50.toFixed(1)} ms, p99 ${servedPage.p99.toFixed(1)} ms`,
  );
  // Salt noise, 2048x2048 (issue 26): refused on a count of its marks, however it is read.
  const noiseBody = (layout: string) =>
    JSON.stringify({
      image: `data:image/png;base64,${saltNoisePng(2048).toString('base64')}`,
      layout,
    });
  for (const layout of ['number', 'lines']) {
    const body = noiseBody(layout);
    const t = performance.now();
    const res = await fetch(`${address}/api/read`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const answer = (await res.json()) as { error?: { code: string } };
    console.log(
      `POST /api/read of 2048x2048 salt noise (200,000 dots), layout "${layout}": ` +
        `${res.status} ${answer.error?.code ?? 'read'} in ${(performance.now() - t).toFixed(0)} ms`,
    );
  }

  for (const inFlight of [2, connections]) {
    console.log(
      `\nHTTP on loopback, ${app.inference.size} inference workers, ${inFlight} connections, ${duration} s each (after 3 s untimed); load ${load()}`,
    );
    console.log('request                          req/s   p50 ms   p99 ms   digits/s  failed');
    for (const { name, url, number } of bodies) {
      const png = (await renderStrokesPng(number.strokes, numberPad(number))).toString('base64');
      const body = JSON.stringify({ image: `data:image/png;base64,${png}` });
      const run = (seconds: number) =>
        autocannon({
          url: `${address}${url}`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          connections: inFlight,
          duration: seconds,
          workers: 1,
        });
      await run(3);
      const r = await run(duration);
      const failed = r.non2xx + r.errors + r.timeouts;
      console.log(
        `${name.padEnd(32)} ${r.requests.average.toFixed(0).padStart(5)} ${String(r.latency.p50).padStart(8)} ${String(r.latency.p99).padStart(8)} ${(r.requests.average * number.text.length).toFixed(0).padStart(10)}  ${failed}`,
      );
    }
  }
  await app.close();
  console.log(`load average after: ${load()}`);
}

/** Bitmaps stacked 40 rows apart, halved (as a phone's photo of a page), on patterned grey paper. */
function photographedPage(rows: readonly GrayBitmap[]): GrayBitmap {
  const full = Math.max(...rows.map((r) => r.width));
  const fullHeight = rows.reduce((h, r) => h + r.height + 40, -40);
  const ink = new Float32Array(full * fullHeight);
  let top = 0;
  for (const r of rows) {
    for (let y = 0; y < r.height; y++)
      for (let x = 0; x < r.width; x++)
        ink[(top + y) * full + x] = 1 - Number(r.data[y * r.width + x]) / 255;
    top += r.height + 40;
  }
  const width = full >> 1;
  const height = fullHeight >> 1;
  const data = new Uint8ClampedArray(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const at = (dx: number, dy: number) => ink[(2 * y + dy) * full + 2 * x + dx];
      const darkness = (at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1)) / 4;
      const paper = 205 - (x * 30) / width + ((x + 3 * y) % 13 < 2 ? -40 : 0);
      data[y * width + x] = paper - darkness * (paper - 40);
    }
  return { width, height, data };
}

/** A gray bitmap as a PNG. */
function grayPng(b: GrayBitmap, deflateLevel = 6): Buffer {
  const png = new PNG({ width: b.width, height: b.height });
  for (let i = 0; i < b.width * b.height; i++) {
    png.data.fill(Number(b.data[i]), 4 * i, 4 * i + 3);
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png, { deflateLevel });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
