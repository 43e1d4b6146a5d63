/**
 * The page's figures for docs/benchmarks.md (figures, not timed tests), `npm run bench:web`:
 * - its JavaScript, gzipped: the entry script and everything, for dist/web and dist/static;
 * - what people draw, answered: a real writer's digit and a 5-digit number of the pen-digits
 *   validation writers (test/e2e/pen-drawings.ts), drawn as pointer events at a person's pace
 *   (a point every PACE_MS), in both modes (the static site, recognition in the browser; the
 *   server page, recognition on the server). Each run is a fresh browser context: once the
 *   page has loaded the digit is drawn and Predict pressed (the first answer), then the pad is
 *   cleared and the digit drawn again (a later digit), then the number (a later number). The
 *   page's `digits:prediction` measures give each answer's time and its phases. The static
 *   site runs twice: as a plain host serves it, and sent with COOP/COEP (wasm threads);
 * - the model weights the static site ships, raw and gzipped.
 *
 *   npx tsx test/e2e/measure.ts [--runs 5] [--pendigits <dir>]
 *
 * Writes test-results/web-measurements.json too.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { buildApp } from '../../src/server/app.ts';
import { penDrawings, type PenDrawing } from './pen-drawings.ts';
import { ensureBuilt, launchBrowser, REPO, screenshotPath, serveStatic } from './helpers.ts';
import type { Stroke } from './digit-strokes.ts';
import type { PredictionPhases } from '../../src/web/prediction-phases.ts';
import type { LoadPhases } from '../../src/web/in-browser.ts';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../../src/web/cross-origin-isolation.ts';

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

/** Each model's weights as the static site ships them, raw and gzipped. */
function modelSizes(dir: string): Record<string, { kB: number; gzipKB: number }> {
  const sizes: Record<string, { kB: number; gzipKB: number }> = {};
  for (const name of readdirSync(join(dir, 'models'))) {
    const bytes = readFileSync(join(dir, 'models', name, 'weights.bin'));
    sizes[name] = {
      kB: Math.round(bytes.length / 100) / 10,
      gzipKB: Math.round(gzipSync(bytes, { level: 9 }).length / 100) / 10,
    };
  }
  return sizes;
}

/** A person's pace: a pointer event every this many ms (a pen reports at 100-200 Hz). */
const PACE_MS = 8;
const VIEWPORT = { width: 1280, height: 800 };

/**
 * Draws on the pad inside the page, as pointer events at a person's pace, then presses Predict.
 * A script, not a function: tsx would wrap a function's inner functions in a helper the page
 * lacks. Strokes are in units of the pad's height from its top-left corner.
 */
const DRAW_SCRIPT = `
window.__drawAndPredict = async (strokes, paceMs) => {
  const pad = document.querySelector('[data-testid="pad"]');
  const rect = pad.getBoundingClientRect();
  const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
  for (const stroke of strokes) {
    const at = stroke.map(([u, v]) => ({
      clientX: rect.left + u * rect.height,
      clientY: rect.top + v * rect.height,
      pointerId: 1,
      pointerType: 'mouse',
      isPrimary: true,
      bubbles: true,
      cancelable: true,
    }));
    pad.dispatchEvent(new PointerEvent('pointerdown', { ...at[0], button: 0, buttons: 1 }));
    for (const p of at.slice(1)) {
      await sleep(paceMs);
      pad.dispatchEvent(new PointerEvent('pointermove', { ...p, button: -1, buttons: 1 }));
    }
    pad.dispatchEvent(new PointerEvent('pointerup', { ...at[at.length - 1], button: 0, buttons: 0 }));
    await sleep(paceMs * 10); // the pen lifted between strokes
  }
  document.querySelector('[data-testid="predict"]').click();
};
`;

/**
 * The in-browser model's loading: navigation to the worker's first step (its script
 * downloaded, compiled and run), then each step, ms.
 */
type LoadTimeline = Omit<LoadPhases, 'startedAt'> & { workerStarted: number };

const LOAD_STEPS = ['workerStarted', 'fetch', 'backend', 'build', 'warmUp'] as const;

/** One answer: Predict pressed to the answer on the page, and its phases. */
interface Answer {
  ms: number;
  phases: PredictionPhases;
  /** What the page read, and whether that is what was written. */
  text: string;
  right: boolean;
}

interface Run {
  /** Navigation start to the page loaded (the `load` event), ms. */
  loadedMs: number;
  /** The in-browser model's backend and wasm threads (if it loaded). */
  backend: string | null;
  threads: number | null;
  /** Navigation start to the first answer on the page, ms. */
  firstResultMs: number;
  /** Navigation start to the in-browser model loaded and warmed up, ms (if it loaded). */
  modelReadyMs: number | null;
  /** Where the model's loading went (if it loaded): the worker's start, then its steps, ms. */
  loading: LoadTimeline | null;
  first: Answer;
  laterDigit: Answer;
  laterNumber: Answer;
}

async function answer(
  page: import('playwright-core').Page,
  drawing: PenDrawing,
  count: number,
): Promise<Answer> {
  await page.evaluate(
    ([strokes, pace]) =>
      (
        window as unknown as {
          __drawAndPredict: (s: Stroke[], p: number) => Promise<void>;
        }
      ).__drawAndPredict(strokes, pace),
    [drawing.strokes, PACE_MS] as const,
  );
  await page.waitForFunction(
    (n) =>
      performance.getEntriesByType('measure').filter((m) => m.name.startsWith('digits:prediction'))
        .length >= n,
    count,
    { timeout: 60_000 },
  );
  const last = await page.evaluate(() => {
    const measures = performance
      .getEntriesByType('measure')
      .filter((m) => m.name.startsWith('digits:prediction'));
    const m = measures[measures.length - 1] as PerformanceMeasure;
    return {
      ms: m.duration,
      phases: (m.detail ?? {}) as Record<string, number>,
      text: document.querySelector('[data-testid="result"]')?.textContent ?? '',
    };
  });
  return {
    ms: Math.round(last.ms * 10) / 10,
    phases: last.phases,
    text: last.text,
    right: last.text === drawing.text,
  };
}

async function run(
  browser: Browser,
  url: string,
  drawings: { digit: PenDrawing; number: PenDrawing },
): Promise<Run> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await page.addInitScript({ content: DRAW_SCRIPT });
  await page.goto(url, { waitUntil: 'load' });
  const first = await answer(page, drawings.digit, 1);
  await page.getByTestId('clear').click();
  const laterDigit = await answer(page, drawings.digit, 2);
  await page.getByTestId('clear').click();
  const laterNumber = await answer(page, drawings.number, 3);
  const marks = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return {
      loaded: nav.loadEventEnd,
      firstResult: performance.getEntriesByName('digits:first-result')[0]?.startTime ?? NaN,
      modelReady: performance.getEntriesByName('digits:model-ready')[0]?.startTime ?? null,
      model: ((performance.getEntriesByName('digits:model-ready')[0] as PerformanceMark | undefined)
        ?.detail ?? null) as {
        backend: string;
        threads: number | null;
        loadPhases: LoadPhases;
      } | null,
      timeOrigin: performance.timeOrigin,
    };
  });
  const phases = marks.model?.loadPhases;
  await context.close();
  return {
    loadedMs: Math.round(marks.loaded),
    backend: marks.model?.backend ?? null,
    threads: marks.model?.threads ?? null,
    firstResultMs: Math.round(marks.firstResult),
    modelReadyMs: marks.modelReady === null ? null : Math.round(marks.modelReady),
    loading: phases
      ? {
          workerStarted: phases.startedAt - marks.timeOrigin,
          fetch: phases.fetch,
          backend: phases.backend,
          build: phases.build,
          warmUp: phases.warmUp,
        }
      : null,
    first,
    laterDigit,
    laterNumber,
  };
}

/** What the page's backend measurement (`?backend=measure`) found: ms per reading, by backend. */
interface BackendMeasurement {
  chosen: string;
  times: Record<string, number>;
  /** Navigation start to the model ready, measurement included, ms. */
  modelReadyMs: number;
}

async function measureBackends(browser: Browser, url: string): Promise<BackendMeasurement> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await page.goto(`${url}?backend=measure`);
  const mark = await page.waitForFunction(
    () => {
      const m = performance.getEntriesByName('digits:model-ready')[0] as
        PerformanceMark | undefined;
      return (
        m && {
          at: m.startTime,
          detail: m.detail as { choice: BackendMeasurement & { backend: string } },
        }
      );
    },
    null,
    { timeout: 120_000 },
  );
  const { at, detail } = (await mark.jsonValue())!;
  await context.close();
  const times = Object.fromEntries(
    Object.entries(detail.choice.times).map(([b, ms]) => [b, Math.round(ms * 10) / 10]),
  );
  return { chosen: detail.choice.backend, times, modelReadyMs: Math.round(at) };
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return Math.round(m * 10) / 10;
}

const PHASES: (keyof PredictionPhases)[] = [
  'capture',
  'modelWait',
  'preprocess',
  'inference',
  'transfer',
  'adaptation',
  'server',
  'request',
  'render',
];

/** Medians of an answer over the runs: its time, each phase, how many were read right. */
function summariseAnswers(answers: Answer[]) {
  const phases: PredictionPhases = {};
  for (const phase of PHASES) {
    const values = answers.flatMap((a) => (a.phases[phase] === undefined ? [] : [a.phases[phase]]));
    if (values.length) phases[phase] = median(values);
  }
  return {
    ms: median(answers.map((a) => a.ms)),
    phases,
    right: answers.filter((a) => a.right).length,
    read: answers.map((a) => a.text),
  };
}

function summarise(runs: Run[]) {
  return {
    backends: [...new Set(runs.map((r) => `${r.backend ?? 'none'}, threads ${r.threads ?? '-'}`))],
    loadedMs: median(runs.map((r) => r.loadedMs)),
    firstResultMs: median(runs.map((r) => r.firstResultMs)),
    modelReadyMs: runs.some((r) => r.modelReadyMs !== null)
      ? median(runs.flatMap((r) => (r.modelReadyMs === null ? [] : [r.modelReadyMs])))
      : null,
    loading: runs.some((r) => r.loading)
      ? Object.fromEntries(
          LOAD_STEPS.map((step) => [
            step,
            median(runs.flatMap((r) => (r.loading ? [r.loading[step]] : []))),
          ]),
        )
      : null,
    first: summariseAnswers(runs.map((r) => r.first)),
    laterDigit: summariseAnswers(runs.map((r) => r.laterDigit)),
    laterNumber: summariseAnswers(runs.map((r) => r.laterNumber)),
    runs,
  };
}

type Summary = ReturnType<typeof summarise>;

function phasesText(phases: PredictionPhases): string {
  return PHASES.filter((p) => phases[p] !== undefined)
    .map((p) => `${p} ${phases[p]}`)
    .join(', ');
}

function table(modes: Record<string, Summary>, runs: number): string {
  const rows: string[] = [
    '| mode | answer | Predict to answer (ms) | phases, ms (median) | read right |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [name, s] of Object.entries(modes)) {
    for (const [label, a] of [
      ['first, a digit', s.first],
      ['later, a digit', s.laterDigit],
      ['later, 5 digits', s.laterNumber],
    ] as const) {
      rows.push(
        `| ${name} | ${label} | ${a.ms} | ${phasesText(a.phases)} | ${a.right} of ${runs} |`,
      );
    }
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const option = (name: string) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  const runs = Number(option('--runs') ?? 5);
  const staticDir = await ensureBuilt('static');
  const webDir = await ensureBuilt('web');
  const sizes = { static: jsSize(staticDir), web: jsSize(webDir) };

  const browser = await launchBrowser();
  // The pad's shape, to fit the number into it.
  const site = await serveStatic(staticDir);
  const probe = await browser.newPage({ viewport: VIEWPORT });
  await probe.goto(site.url);
  const pad = await probe.getByTestId('pad').boundingBox();
  await probe.close();
  if (!pad) throw new Error('the pad is not visible');
  const drawings = await penDrawings(option('--pendigits'), pad.width / pad.height);

  const inBrowser: Run[] = [];
  for (let i = 0; i < runs; i++) inBrowser.push(await run(browser, site.url, drawings));
  // Every backend that starts here timed by the page itself, software WebGL included.
  const backendsPlain = await measureBackends(browser, site.url);
  await site.close();
  // The same site sent with COOP and COEP, as a host configured for threads sends it.
  const isolatedSite = await serveStatic(staticDir, '/', CROSS_ORIGIN_ISOLATION_HEADERS);
  const isolated: Run[] = [];
  for (let i = 0; i < runs; i++) isolated.push(await run(browser, isolatedSite.url, drawings));
  const backendsIsolated = await measureBackends(browser, isolatedSite.url);
  await isolatedSite.close();

  const app = await buildApp({
    webRoot: webDir,
    modelDir: join(REPO, 'models', 'mnist-cnn'),
    rateLimit: 0,
    logger: false,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.inference.whenReady();
  const viaServer: Run[] = [];
  for (let i = 0; i < runs; i++) viaServer.push(await run(browser, `${address}/`, drawings));
  await app.close();
  await browser.close();

  const modes = {
    'in the browser (static site)': summarise(inBrowser),
    'in the browser (static site, COOP/COEP)': summarise(isolated),
    'via the server': summarise(viaServer),
  };
  const report = {
    date: new Date().toISOString(),
    chromium: 'Debian Chromium, headless, --disable-gpu, loopback, no throttling',
    viewport: VIEWPORT,
    paceMs: PACE_MS,
    drawings: {
      digit: {
        text: drawings.digit.text,
        writer: drawings.digit.writer,
        points: drawings.digit.points,
      },
      number: {
        text: drawings.number.text,
        writer: drawings.number.writer,
        points: drawings.number.points,
      },
    },
    javascript: sizes,
    models: modelSizes(staticDir),
    backendMeasurement: { plain: backendsPlain, isolated: backendsIsolated },
    modes,
  };
  writeFileSync(screenshotPath('web-measurements.json'), `${JSON.stringify(report, null, 2)}\n`);
  const b = modes['in the browser (static site)'];
  const i = modes['in the browser (static site, COOP/COEP)'];
  const v = modes['via the server'];
  const weights = Object.entries(report.models)
    .map(([name, m]) => `${name} ${m.kB} kB (${m.gzipKB} kB gzipped)`)
    .join(', ');
  console.log(
    [
      `JavaScript, gzipped (level 9):`,
      `  static site: entry ${sizes.static.entryGzipKiB} KiB, all ${sizes.static.totalGzipKiB} KiB (raw ${sizes.static.totalKiB} KiB)`,
      `  server page: entry ${sizes.web.entryGzipKiB} KiB, all ${sizes.web.totalGzipKiB} KiB (in-browser model code loaded on demand)`,
      `Model weights: ${weights}`,
      `?backend=measure, ms per reading (median of 6): plain ${JSON.stringify(backendsPlain.times)} -> ${backendsPlain.chosen} (ready at ${backendsPlain.modelReadyMs} ms); ` +
        `isolated ${JSON.stringify(backendsIsolated.times)} -> ${backendsIsolated.chosen} (ready at ${backendsIsolated.modelReadyMs} ms)`,
      `Drawn: a ${drawings.digit.text} of writer ${drawings.digit.writer} (${drawings.digit.points} points), ` +
        `${drawings.number.text} of writer ${drawings.number.writer} (${drawings.number.points} points), a point every ${PACE_MS} ms`,
      `Median of ${runs} fresh contexts, ${VIEWPORT.width}x${VIEWPORT.height}:`,
      `  in the browser: loaded ${b.loadedMs} ms, first answer on the page ${b.firstResultMs} ms after navigation, model ready ${b.modelReadyMs} ms (${b.backends.join('; ')})`,
      `  in the browser, isolated: loaded ${i.loadedMs} ms, first answer on the page ${i.firstResultMs} ms after navigation, model ready ${i.modelReadyMs} ms (${i.backends.join('; ')})`,
      ...[b, i].map(
        (m, k) =>
          `  ${k ? 'isolated' : 'plain'}, the model's loading (ms): ${LOAD_STEPS.map((step) => `${step} ${m.loading?.[step] ?? '-'}`).join(', ')}`,
      ),
      `  via the server: loaded ${v.loadedMs} ms, first answer on the page ${v.firstResultMs} ms after navigation`,
      '',
      table(modes, runs),
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
