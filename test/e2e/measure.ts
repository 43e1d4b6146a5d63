/**
 * The page's figures for docs/benchmarks.md (figures, not timed tests):
 * - its JavaScript, gzipped: the entry script and everything, for dist/web and dist/static;
 * - the time from navigation to the first prediction shown, in the browser (static site)
 *   and through the server: a fresh browser context each run, a 1 drawn (pointer events
 *   dispatched in the page) at DOMContentLoaded, Predict pressed at once.
 *
 *   npx tsx test/e2e/measure.ts [--runs 5]
 *
 * Writes test-results/web-measurements.json too.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { buildApp } from '../../src/server/app.ts';
import { DIGIT_STROKES } from './digit-strokes.ts';
import {
  ensureBuilt,
  launchBrowser,
  REPO,
  resultFor,
  screenshotPath,
  serveStatic,
} from './helpers.ts';
import type { Stroke } from './digit-strokes.ts';

/** The stroke's points with about 1/100 of the pad between them. */
function densify(stroke: Stroke): [number, number][] {
  const out: [number, number][] = [[stroke[0][0], stroke[0][1]]];
  for (let i = 1; i < stroke.length; i++) {
    const [x0, y0] = stroke[i - 1];
    const [x1, y1] = stroke[i];
    const steps = Math.max(1, Math.round(Math.hypot(x1 - x0, y1 - y0) * 100));
    for (let k = 1; k <= steps; k++) {
      out.push([x0 + ((x1 - x0) * k) / steps, y0 + ((y1 - y0) * k) / steps]);
    }
  }
  return out;
}

interface JsSize {
  entryKiB: number;
  entryGzipKiB: number;
  totalKiB: number;
  totalGzipKiB: number;
  files: Record<string, { kiB: number; gzipKiB: number }>;
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;

function jsSize(dir: string): JsSize {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const entry = /<script[^>]+src="\.\/assets\/([^"]+\.js)"/.exec(html)?.[1];
  const files: JsSize['files'] = {};
  let total = 0;
  let totalGzip = 0;
  for (const name of readdirSync(join(dir, 'assets')).filter((f) => f.endsWith('.js'))) {
    const bytes = readFileSync(join(dir, 'assets', name));
    const gz = gzipSync(bytes, { level: 9 }).length;
    files[name] = { kiB: kib(bytes.length), gzipKiB: kib(gz) };
    total += bytes.length;
    totalGzip += gz;
  }
  const main = entry ? files[entry] : undefined;
  return {
    entryKiB: main?.kiB ?? 0,
    entryGzipKiB: main?.gzipKiB ?? 0,
    totalKiB: kib(total),
    totalGzipKiB: kib(totalGzip),
    files,
  };
}

interface FirstPrediction {
  /** Navigation start to DOMContentLoaded (the page's script has run), ms. */
  domReadyMs: number;
  /** Navigation start to Predict pressed on the drawn 1, ms. */
  predictPressedMs: number;
  /** Navigation start to the first result on screen, ms. */
  firstResultMs: number;
  /** Navigation start to the in-browser model loaded and warmed up, ms (if it loaded). */
  modelReadyMs: number | null;
  /** Predict pressed to the result on screen: the first prediction and a later one, ms. */
  firstPredictionMs: number;
  laterPredictionMs: number;
}

async function firstPrediction(browser: Browser, url: string): Promise<FirstPrediction> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // As soon as the page's script has run, draw a 1 (pointer events as the mouse sends them)
  // and press Predict, all inside the page, so the figure is the page's time, not the test's.
  await page.addInitScript((stroke) => {
    document.addEventListener('DOMContentLoaded', () => {
      const pad = document.querySelector('[data-testid="pad"]')!;
      const rect = pad.getBoundingClientRect();
      const points = stroke.map(([u, v]) => ({
        clientX: rect.left + u * rect.width,
        clientY: rect.top + v * rect.height,
        pointerId: 1,
        pointerType: 'mouse',
        bubbles: true,
      }));
      points.forEach((p, i) => {
        const type = i === 0 ? 'pointerdown' : 'pointermove';
        pad.dispatchEvent(new PointerEvent(type, { ...p, button: i === 0 ? 0 : -1 }));
      });
      pad.dispatchEvent(new PointerEvent('pointerup', { ...points[points.length - 1], button: 0 }));
      document.querySelector<HTMLButtonElement>('[data-testid="predict"]')!.click();
    });
  }, densify(DIGIT_STROKES[1][0]));
  await page.goto(url);
  await resultFor(page, 1, 60_000);
  await page.getByTestId('predict').click();
  await page.waitForFunction(() => performance.getEntriesByType('measure').length >= 2);
  // No named inner functions here: tsx would wrap them in a helper the page lacks.
  const marks = await page.evaluate(() => {
    const measures = performance
      .getEntriesByType('measure')
      .filter((m) => m.name.startsWith('digits:prediction'));
    const predictions = measures.map((m) => m.duration);
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return {
      firstResult: performance.getEntriesByName('digits:first-result')[0]?.startTime ?? null,
      modelReady: performance.getEntriesByName('digits:model-ready')[0]?.startTime ?? null,
      predictions,
      domReady: nav.domContentLoadedEventEnd,
      predictPressed: measures[0].startTime,
    };
  });
  await context.close();
  return {
    domReadyMs: Math.round(marks.domReady),
    predictPressedMs: Math.round(marks.predictPressed),
    firstResultMs: Math.round(marks.firstResult ?? NaN),
    modelReadyMs: marks.modelReady === null ? null : Math.round(marks.modelReady),
    firstPredictionMs: Math.round(marks.predictions[0] * 10) / 10,
    laterPredictionMs: Math.round(marks.predictions[marks.predictions.length - 1] * 10) / 10,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarise(runs: FirstPrediction[]) {
  const of = (key: keyof FirstPrediction) =>
    median(runs.map((r) => r[key]).filter((v): v is number => typeof v === 'number'));
  return {
    medianDomReadyMs: of('domReadyMs'),
    medianPredictPressedMs: of('predictPressedMs'),
    medianFirstResultMs: of('firstResultMs'),
    medianModelReadyMs: runs.some((r) => r.modelReadyMs !== null) ? of('modelReadyMs') : null,
    medianFirstPredictionMs: of('firstPredictionMs'),
    medianLaterPredictionMs: of('laterPredictionMs'),
    runs,
  };
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const staticDir = await ensureBuilt('static');
  const webDir = await ensureBuilt('web');
  const sizes = { static: jsSize(staticDir), web: jsSize(webDir) };

  const browser = await launchBrowser();
  const site = await serveStatic(staticDir);
  const inBrowser: FirstPrediction[] = [];
  for (let i = 0; i < runs; i++) inBrowser.push(await firstPrediction(browser, site.url));
  await site.close();

  const app = await buildApp({
    webRoot: webDir,
    modelDir: join(REPO, 'models', 'mnist-cnn'),
    rateLimit: 0,
    logger: false,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.inference.whenReady();
  const viaServer: FirstPrediction[] = [];
  for (let i = 0; i < runs; i++) viaServer.push(await firstPrediction(browser, `${address}/`));
  await app.close();
  await browser.close();

  const report = {
    date: new Date().toISOString(),
    chromium: 'Debian Chromium, headless, --disable-gpu, loopback, no throttling',
    javascript: sizes,
    firstPrediction: { inBrowser: summarise(inBrowser), viaServer: summarise(viaServer) },
  };
  writeFileSync(screenshotPath('web-measurements.json'), `${JSON.stringify(report, null, 2)}\n`);
  const s = report.firstPrediction;
  console.log(
    [
      `JavaScript, gzipped (level 9):`,
      `  static site: entry ${sizes.static.entryGzipKiB} KiB, all ${sizes.static.totalGzipKiB} KiB (raw ${sizes.static.totalKiB} KiB)`,
      `  server page: entry ${sizes.web.entryGzipKiB} KiB, all ${sizes.web.totalGzipKiB} KiB (in-browser model code loaded on demand)`,
      `Navigation to first prediction shown (median of ${runs}, fresh context each):`,
      `  in the browser: ${s.inBrowser.medianFirstResultMs} ms (page ready ${s.inBrowser.medianDomReadyMs} ms, Predict pressed ${s.inBrowser.medianPredictPressedMs} ms, model loaded and warmed up at ${s.inBrowser.medianModelReadyMs} ms; Predict to result: first ${s.inBrowser.medianFirstPredictionMs} ms, later ${s.inBrowser.medianLaterPredictionMs} ms)`,
      `  via the server: ${s.viaServer.medianFirstResultMs} ms (page ready ${s.viaServer.medianDomReadyMs} ms, Predict pressed ${s.viaServer.medianPredictPressedMs} ms; Predict to result: first ${s.viaServer.medianFirstPredictionMs} ms, later ${s.viaServer.medianLaterPredictionMs} ms)`,
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
