/**
 * Browser-test helpers: Debian's Chromium through playwright-core, the page's builds, a tiny
 * static file server, and drawing on the pad like a person would.
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Stroke } from './digit-strokes.ts';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const RESULTS_DIR = join(REPO, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * The page's build (dist/web or dist/static), rebuilt first when it is missing or older
 * than the sources or the model it contains.
 */
export async function ensureBuilt(kind: 'web' | 'static'): Promise<string> {
  const out = join(REPO, 'dist', kind);
  const index = join(out, 'index.html');
  const sources = [
    'src/web',
    'src/core',
    'src/recognizer',
    'models/mnist-cnn',
    'models/line-cnn',
    'models/line-paper',
  ].map((d) => newest(join(REPO, d)));
  if (!existsSync(index) || statSync(index).mtimeMs < Math.max(...sources)) {
    const args = ['build', '--config', 'src/web/vite.config.ts', '--logLevel', 'warn'];
    if (kind === 'static') args.push('--mode', 'static');
    await promisify(execFile)(join(REPO, 'node_modules', '.bin', 'vite'), args, { cwd: REPO });
  }
  return out;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The wasm backend's threaded build, as Vite names it: fetched only by an isolated page. */
export const THREADED_WASM = /tfjs-backend-wasm-threaded-simd-[\w-]+\.wasm$/;

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `root` on a free loopback port, optionally under a path prefix such as /app/, with
 * `headers` on every file (a static host configured for cross-origin isolation sends them).
 */
export async function serveStatic(
  root: string,
  prefix = '/',
  headers: Readonly<Record<string, string>> = {},
): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (!path.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    let file = normalize(join(root, path.slice(prefix.length)));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export interface ConsoleWatch {
  /** Console errors and uncaught exceptions, except those `allow` matches. */
  readonly problems: string[];
  allow: RegExp[];
}

/** Collects console errors and page errors, to assert there are none. */
export function watchConsole(page: Page): ConsoleWatch {
  const watch: ConsoleWatch = { problems: [], allow: [] };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = `${msg.text()} ${msg.location().url ?? ''}`;
    if (!watch.allow.some((re) => re.test(text))) watch.problems.push(`console: ${text}`);
  });
  page.on('pageerror', (err) => watch.problems.push(`page error: ${err.message}`));
  return watch;
}

/**
 * The square at the left end of the pad, as high as the pad, in CSS pixels: strokes in
 * pad-relative coordinates (0..1) are drawn in it, and a number's later digits to its right
 * (u beyond 1, see shiftStrokes).
 */
export async function padBox(page: Page): Promise<{ x: number; y: number; size: number }> {
  const pad = page.getByTestId('pad');
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  if (!box) throw new Error('the pad is not visible');
  return { x: box.x, y: box.y, size: box.height };
}

/** The points of a stroke on the page, about `stepPx` CSS pixels apart. */
export function strokePath(
  stroke: Stroke,
  box: { x: number; y: number; size: number },
  stepPx = 3,
): { x: number; y: number }[] {
  const at = ([u, v]: readonly [number, number]) => ({
    x: box.x + u * box.size,
    y: box.y + v * box.size,
  });
  const out = [at(stroke[0])];
  for (let i = 1; i < stroke.length; i++) {
    const a = at(stroke[i - 1]);
    const b = at(stroke[i]);
    const steps = Math.max(1, Math.round(Math.hypot(b.x - a.x, b.y - a.y) / stepPx));
    for (let k = 1; k <= steps; k++) {
      out.push({ x: a.x + ((b.x - a.x) * k) / steps, y: a.y + ((b.y - a.y) * k) / steps });
    }
  }
  return out;
}

/**
 * Draws strokes with the mouse: press, many small moves (a point every `stepPx`, as a mouse
 * moved briskly reports them), release.
 */
export async function drawWithMouse(page: Page, strokes: readonly Stroke[], stepPx = 5) {
  const box = await padBox(page);
  for (const stroke of strokes) {
    const path = strokePath(stroke, box, stepPx);
    await page.mouse.move(path[0].x, path[0].y);
    await page.mouse.down();
    for (const p of path.slice(1)) await page.mouse.move(p.x, p.y);
    await page.mouse.up();
  }
}

/** Draws strokes with a finger, through the DevTools protocol's touch input. */
export async function drawWithTouch(page: Page, strokes: readonly Stroke[], stepPx = 4) {
  const cdp = await page.context().newCDPSession(page);
  const box = await padBox(page);
  for (const stroke of strokes) {
    const path = strokePath(stroke, box, stepPx);
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchStart',
      touchPoints: [{ x: path[0].x, y: path[0].y, id: 1 }],
    });
    for (const p of path.slice(1)) {
      await cdp.send('Input.dispatchTouchEvent', {
        type: 'touchMove',
        touchPoints: [{ x: p.x, y: p.y, id: 1 }],
      });
    }
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  }
  await cdp.detach();
}

/** A swipe with a finger from one page point to another (to try to scroll the page). */
export async function swipe(
  page: Page,
  from: { x: number; y: number },
  to: { x: number; y: number },
  steps = 12,
) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Input.dispatchTouchEvent', {
    type: 'touchStart',
    touchPoints: [{ ...from, id: 2 }],
  });
  for (let k = 1; k <= steps; k++) {
    const x = from.x + ((to.x - from.x) * k) / steps;
    const y = from.y + ((to.y - from.y) * k) / steps;
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchMove',
      touchPoints: [{ x, y, id: 2 }],
    });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/**
 * Waits for the answer to a drawing of `strokes` strokes (earlier answers, given while the
 * digit was half drawn, do not count) and returns the recognised digit.
 */
export async function resultFor(page: Page, strokes: number, timeout = 30_000): Promise<string> {
  await page.waitForFunction(
    (n) => {
      const panel = document.querySelector<HTMLElement>('[data-testid="result-panel"]');
      return panel?.dataset.state === 'done' && panel.dataset.strokes === String(n);
    },
    strokes,
    { timeout },
  );
  return (await page.getByTestId('result').textContent()) ?? '';
}

export function screenshotPath(name: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return join(RESULTS_DIR, name);
}
