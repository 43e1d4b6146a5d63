/**
 * The page served by the API server (buildApp, dist/web/): recognition on the server, the
 * switch to the in-browser model, and what happens when the server goes away.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { imageSize } from 'image-size';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { browserPerFile } from './browser-per-file.ts';
import { DIGIT_STROKES, DIGITS_TO_DRAW, numberStrokes, scaleStrokes } from './digit-strokes.ts';
import {
  drawWithMouse,
  ensureBuilt,
  padBox,
  REPO,
  resultFor,
  screenshotPath,
  THREADED_WASM,
  watchConsole,
  type ConsoleWatch,
} from './helpers.ts';
import {
  badFiles,
  blankScan,
  boxesOverDigits,
  checkPhoto,
  digitCentres,
  shownPhoto,
  uploadPhoto,
} from './paper-photo.ts';

const newContext = browserPerFile();
let webRoot: string;

beforeAll(async () => {
  webRoot = await ensureBuilt('web');
});

async function startServer(): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildApp({
    webRoot,
    modelDir: join(REPO, 'models', 'mnist-cnn'),
    rateLimit: 0,
    logger: false,
    workers: 1,
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  await app.inference.whenReady();
  return { app, url: `${url}/` };
}

interface Opened {
  page: Page;
  watch: ConsoleWatch;
  /** Every URL the page (and its workers) asked for. */
  requests: string[];
  /** POST /api/read requests the page made (the page reads a number, of one digit or more). */
  predictions: Request[];
}

async function open(url: string, viewport = { width: 1280, height: 800 }): Promise<Opened> {
  const page = await (await newContext({ viewport })).newPage();
  const watch = watchConsole(page);
  const predictions: Request[] = [];
  const requests: string[] = [];
  page.on('request', (req) => {
    requests.push(req.url());
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/api/read') {
      predictions.push(req);
    }
  });
  await page.goto(url);
  return { page, watch, requests, predictions };
}

/** The preview's 28x28 gray levels (the input the model saw), 0..255. */
function previewPixels(page: Page): Promise<number[]> {
  return page.getByTestId('preview').evaluate((c: HTMLCanvasElement) => {
    const { data } = c.getContext('2d')!.getImageData(0, 0, 28, 28);
    return Array.from({ length: 784 }, (_, i) => data[i * 4]);
  });
}

/**
 * Starts counting the elements added to the page (the screen readers' live region aside);
 * the function returned says how many so far.
 */
async function countAddedElements(page: Page): Promise<() => Promise<number>> {
  type Counting = Window & { addedElements?: number };
  await page.evaluate(() => {
    const counting = window as Counting;
    counting.addedElements = 0;
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node instanceof Element && !node.closest('#announcer')) {
            counting.addedElements = (counting.addedElements ?? 0) + 1;
          }
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  return () => page.evaluate(() => (window as Counting).addedElements ?? -1);
}

function sentEnsemble(req: Request): string {
  return (JSON.parse(req.postData() ?? '{}') as { ensemble?: string }).ensemble ?? '';
}

describe('the page served by the API server', () => {
  let server: { app: FastifyInstance; url: string };

  beforeAll(async () => {
    server = await startServer();
  });

  afterAll(async () => {
    await server?.app.close();
  });

  test('recognises digits drawn with the mouse, through POST /api/read', async () => {
    const { page, watch, predictions } = await open(server.url);
    await expect(page.locator('#mode-server').isChecked()).resolves.toBe(true);

    for (const digit of DIGITS_TO_DRAW) {
      const strokes = DIGIT_STROKES[digit];
      const before = predictions.length;
      await drawWithMouse(page, strokes);
      const got = await resultFor(page, strokes.length);
      expect(got, `drawn ${digit}`).toBe(String(digit));
      expect(predictions.length).toBeGreaterThan(before);
      await expect(page.getByTestId('timing').textContent()).resolves.toMatch(
        /ms on the server · \d+(\.\d)? ms round trip/,
      );
      if (digit === 2) {
        await page.waitForTimeout(400); // the bars' transition
        await page.screenshot({ path: screenshotPath('server-desktop-1280x800.png') });
      }
      await page.getByTestId('clear').click();
    }
    // The request is the canvas as a PNG data URL.
    const body = JSON.parse(predictions[0].postData() ?? '{}') as { image?: string };
    expect(body.image).toMatch(/^data:image\/png;base64,/);
    expect(sentEnsemble(predictions[0])).toBe('vote');
    expect(watch.problems).toEqual([]);
  });

  test('reads digits written small, a tenth of the pad high, in a pen-like stroke', async () => {
    // About 40 px tall on the 400 px desktop pad: with a brush of 1/17.5 of the pad's height
    // (23 px) the loops filled in, and the 2 was read as an 8.
    const { page, watch } = await open(server.url);
    for (const digit of DIGITS_TO_DRAW) {
      const strokes = scaleStrokes(DIGIT_STROKES[digit], 0.18);
      await drawWithMouse(page, strokes, 2);
      expect(await resultFor(page, strokes.length), `drawn ${digit}`).toBe(String(digit));
      await page.getByTestId('clear').click();
    }
    expect(watch.problems).toEqual([]);
  });

  test('reads a number drawn with the mouse: the number, its digits, their boxes', async () => {
    // A phone's pad is narrower for its height: three digits fit on it.
    for (const { viewport, text } of [
      { viewport: { width: 1280, height: 800 }, text: '2047' },
      { viewport: { width: 390, height: 844 }, text: '274' },
    ]) {
      const { page, watch, predictions } = await open(server.url, viewport);
      const strokes = numberStrokes(text);
      await drawWithMouse(page, strokes, 8);
      expect(await resultFor(page, strokes.length)).toBe(text);
      expect(predictions.length).toBeGreaterThan(0);
      expect(await page.getByTestId('digit').count()).toBe(text.length);
      expect(await page.getByTestId('digit-box').count()).toBe(text.length);
      // Each box is over its digit: centred on the middle of its points (the page
      // reads only the part of the pad with ink, and places the boxes back on the whole pad).
      const pad = await padBox(page);
      const boxes = await page
        .getByTestId('digit-box')
        .evaluateAll((els) => els.map((el) => el.getBoundingClientRect().toJSON() as DOMRect));
      let first = 0;
      [...text].forEach((d, k) => {
        const own = strokes.slice(first, (first += DIGIT_STROKES[Number(d)].length)).flat();
        const mid = (values: number[]) => (Math.min(...values) + Math.max(...values)) / 2;
        const x = pad.x + mid(own.map(([u]) => u)) * pad.size;
        const y = pad.y + mid(own.map(([, v]) => v)) * pad.size;
        const { left, right, top, bottom } = boxes[k];
        const off = [(left + right) / 2 - x, (top + bottom) / 2 - y].map(Math.abs);
        expect(Math.max(...off) / pad.size, `digit ${k}: off by ${off}`).toBeLessThan(0.05);
      });
      // The least sure digit is picked first; picking another shows its own probabilities,
      // votes and 28x28.
      const digitButtons = page.getByTestId('digit');
      const pressed = await digitButtons.evaluateAll((els) =>
        els.findIndex((el) => el.getAttribute('aria-pressed') === 'true'),
      );
      const other = pressed === 1 ? 0 : 1;
      const before = await previewPixels(page);
      const added = await countAddedElements(page);
      await digitButtons.nth(other).click();
      expect(await digitButtons.nth(other).getAttribute('aria-pressed')).toBe('true');
      expect(await page.getByTestId('confidence').textContent()).toMatch(
        new RegExp(`^Digit ${other + 1} of ${text.length}`),
      );
      expect(await page.locator('.bar.winner').getAttribute('data-digit')).toBe(text[other]);
      expect(await previewPixels(page)).not.toEqual(before);
      // The same drawing read again keeps the digit picked. Neither that nor the pick made an
      // element: the strip, the boxes, the bars and the 28x28s were updated in place.
      const sent = predictions.length;
      await page.getByTestId('predict').click();
      await expect.poll(() => predictions.length).toBe(sent + 1);
      expect(await resultFor(page, strokes.length)).toBe(text);
      expect(await digitButtons.nth(other).getAttribute('aria-pressed')).toBe('true');
      expect(await added()).toBe(0);
      await page.waitForTimeout(400); // the bars' transition
      const name = `server-number-${viewport.width}x${viewport.height}.png`;
      await page.screenshot({ path: screenshotPath(name), fullPage: true });
      expect(watch.problems).toEqual([]);
      await page.context().close();
    }
  });

  test('reads a number whose digits touch, on the server and in the browser alike', async () => {
    const { page, watch, predictions } = await open(server.url);
    // 0.3 pad heights from digit to digit, digits 0.4 wide: neighbours' strokes meet.
    const strokes = numberStrokes('4705', 0.3);
    await drawWithMouse(page, strokes, 8);
    expect(await resultFor(page, strokes.length)).toBe('4705');
    expect(predictions.length).toBeGreaterThan(0);
    expect(await page.getByTestId('digit').count()).toBe(4);
    await page.locator('label[for="mode-browser"]').click();
    await page.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: 60_000 });
    await expect.poll(() => page.getByTestId('timing').textContent()).toMatch(/in your browser/);
    expect(await page.getByTestId('result').textContent()).toBe('4705');
    expect(await page.getByTestId('digit').count()).toBe(4);
    expect(watch.problems).toEqual([]);
    await page.context().close();
  });

  test('an empty pad sends nothing; the ensemble choice is sent with the drawing', async () => {
    const { page, watch, predictions } = await open(server.url, { width: 390, height: 844 });
    await page.getByTestId('predict').click();
    await expect(page.getByTestId('message').textContent()).resolves.toMatch(/empty/i);
    await expect(page.getByTestId('result').textContent()).resolves.toBe('');
    await page.waitForTimeout(500);
    expect(predictions).toHaveLength(0);

    await page.locator('label[for="ensemble-mean"]').click();
    await drawWithMouse(page, DIGIT_STROKES[3]);
    expect(await resultFor(page, 1)).toBe('3');
    expect(sentEnsemble(predictions.at(-1)!)).toBe('mean');
    // Changing the choice recognises the same drawing again.
    await page.locator('label[for="ensemble-off"]').click();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="result-panel"]')?.getAttribute('data-state') !==
        'busy',
    );
    await expect.poll(() => sentEnsemble(predictions.at(-1)!)).toBe('off');
    expect(await resultFor(page, 1)).toBe('3');
    await page.waitForTimeout(400);
    await page.screenshot({ path: screenshotPath('server-phone-390x844.png') });
    expect(watch.problems).toEqual([]);
  });

  test('reads a photo of a check given through "Read a photo", its digits boxed on it', async () => {
    const check = checkPhoto('2047');
    const file = { name: 'check.jpg', mimeType: 'image/jpeg', buffer: check.jpeg };
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      const { page, watch, predictions } = await open(server.url, viewport);
      // A drawing first: the photo is read in its place, and Clear brings it back.
      await drawWithMouse(page, DIGIT_STROKES[7]);
      expect(await resultFor(page, 1)).toBe('7');
      const sent = predictions.length;

      await uploadPhoto(page, file);
      expect(await page.getByTestId('result').textContent()).toBe('2047');
      expect(await page.getByTestId('photo').isVisible()).toBe(true);
      expect(await page.getByTestId('pad').isVisible()).toBe(false);
      expect(await page.getByTestId('digit').count()).toBe(4);
      const shown = await shownPhoto(page);
      expect(boxesOverDigits(shown, digitCentres(check, 4))).toEqual([]);
      expect(shown.photo.width).toBeLessThanOrEqual(viewport.width);
      await expect(page.getByTestId('timing').textContent()).resolves.toMatch(/on the server/);
      // Sent as the pad's drawing is, as an image data URL: scaled down in the browser first.
      expect(predictions.length).toBe(sent + 1);
      const { image } = JSON.parse(predictions.at(-1)!.postData() ?? '{}') as { image: string };
      expect(image).toMatch(/^data:image\/jpeg;base64,/);
      const size = imageSize(Buffer.from(image.slice(image.indexOf(',') + 1), 'base64'));
      expect([size.width, size.height]).toEqual([1600, 600]);
      await page.waitForTimeout(400); // the bars' transition
      await page.screenshot({
        path: screenshotPath(`server-photo-${viewport.width}x${viewport.height}.png`),
        fullPage: true,
      });

      // Another ensemble reads the photo again, not the pad.
      await page.locator('label[for="ensemble-mean"]').click();
      await expect.poll(() => sentEnsemble(predictions.at(-1)!)).toBe('mean');
      await expect.poll(() => page.getByTestId('result').textContent()).toBe('2047');

      await page.getByTestId('clear').click();
      expect(await page.getByTestId('photo').count()).toBe(0);
      expect(await page.getByTestId('pad').isVisible()).toBe(true);
      expect(await resultFor(page, 1)).toBe('7');
      await expect.poll(() => page.getByTestId('digit-box').count()).toBe(1);
      expect(watch.problems).toEqual([]);
      await page.context().close();
    }
  });

  test('a file that is no readable image says so, and the drawing stays', async () => {
    const { page, watch, predictions } = await open(server.url);
    await drawWithMouse(page, DIGIT_STROKES[4]);
    expect(await resultFor(page, 2)).toBe('4');
    const sent = predictions.length;
    for (const { file, says } of badFiles()) {
      await page.getByTestId('upload').setInputFiles(file);
      await expect
        .poll(() => page.getByTestId('message').textContent(), { timeout: 20_000 })
        .toMatch(says);
      expect(await page.getByTestId('message').getAttribute('data-kind')).toBe('error');
      expect(await page.getByTestId('pad').isVisible()).toBe(true);
      expect(await page.getByTestId('photo').count()).toBe(0);
      expect(await page.getByTestId('result').textContent()).toBe('4');
    }
    await page.screenshot({ path: screenshotPath('server-bad-photo-1280x800.png') });
    expect(predictions.length).toBe(sent);
    // An image with nothing on it is opened and sent; the server's 422 empty_image is told.
    watch.allow.push(/status of 422/);
    await page
      .getByTestId('upload')
      .setInputFiles({ name: 'blank.png', mimeType: 'image/png', buffer: blankScan() });
    await expect
      .poll(() => page.getByTestId('message').textContent(), { timeout: 20_000 })
      .toMatch(/No writing was found in the photo\./);
    expect(predictions.length).toBe(sent + 1);
    expect(await page.getByTestId('photo').isVisible()).toBe(true);
    expect(await page.getByTestId('result').textContent()).toBe('');
    // Back to the pad: the drawing was kept, and is read again.
    await page.getByTestId('clear').click();
    await expect.poll(() => page.getByTestId('result').textContent()).toBe('4');
    // The pad still works: the drawing goes on, and is read.
    await page.getByTestId('clear').click();
    await drawWithMouse(page, DIGIT_STROKES[3]);
    expect(await resultFor(page, 1)).toBe('3');
    expect(watch.problems).toEqual([]);
  });

  test('the switch to in-browser recognition', async () => {
    const { page, watch, requests, predictions } = await open(server.url);
    // The server sends COOP and COEP: the page is isolated, so its model may run wasm's
    // threaded build (with 4 cores or more: static-site.test.ts).
    const seen = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency,
    }));
    expect(seen.isolated).toBe(true);
    await page.locator('label[for="mode-browser"]').click();
    await page.waitForSelector('[data-testid="status"][data-state="ready"]');
    expect(requests.some((u) => THREADED_WASM.test(u))).toBe(seen.cores >= 4);
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/in this browser/);
    await drawWithMouse(page, DIGIT_STROKES[5]);
    expect(await resultFor(page, 2)).toBe('5');
    await expect(page.getByTestId('timing').textContent()).resolves.toMatch(/in your browser/);
    expect(predictions).toHaveLength(0);
    const seenInBrowser = await previewPixels(page);
    // And back to the server: the same drawing, the same 28x28 (one pipeline for both).
    await page.locator('label[for="mode-server"]').click();
    await expect.poll(() => predictions.length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('timing').textContent()).toMatch(/on the server/);
    expect(await page.getByTestId('result').textContent()).toBe('5');
    const seenOnServer = await previewPixels(page);
    expect(seenOnServer.reduce((a, b) => a + b, 0)).toBeGreaterThan(20 * 255);
    const diff = seenOnServer.map((v, i) => Math.abs(v - seenInBrowser[i]));
    expect(Math.max(...diff)).toBeLessThanOrEqual(1);
    expect(watch.problems).toEqual([]);
  });
});

describe('when the server goes away', () => {
  test('the in-browser model answers, and the page says the server cannot be reached', async () => {
    const server = await startServer();
    let closed = false;
    try {
      const { page, watch } = await open(server.url);
      // The in-browser model is loaded in the background as a standby.
      await expect
        .poll(() => page.getByTestId('status').textContent(), { timeout: 60_000 })
        .toMatch(/standing by/);
      await drawWithMouse(page, DIGIT_STROKES[7]);
      expect(await resultFor(page, 1)).toBe('7');
      await expect(page.getByTestId('timing').textContent()).resolves.toMatch(/on the server/);

      await server.app.close();
      closed = true;
      // The browser reports the refused connection itself; that is the expected failure.
      watch.allow.push(/ERR_CONNECTION_REFUSED|Failed to load resource/);
      await page.getByTestId('clear').click();
      await drawWithMouse(page, DIGIT_STROKES[4]);
      expect(await resultFor(page, 2)).toBe('4');
      await expect(page.getByTestId('timing').textContent()).resolves.toMatch(/in your browser/);
      const message = page.getByTestId('message');
      await expect(message.textContent()).resolves.toMatch(/cannot be reached/);
      await expect(page.getByTestId('status').textContent()).resolves.toMatch(/cannot be reached/);
      // The choice stays the server's: it is asked again with the next drawing.
      await expect(page.locator('#mode-server').isChecked()).resolves.toBe(true);
      await page.screenshot({ path: screenshotPath('server-stopped-1280x800.png') });

      // Forgetting corrections with no server says so in words, not "Failed to fetch".
      await page.getByTestId('forget-corrections').click();
      await expect
        .poll(() => page.getByTestId('correction-status').textContent())
        .toMatch(/Nothing was forgotten: the server cannot be reached/);
      expect(watch.problems).toEqual([]);
    } finally {
      if (!closed) await server.app.close();
    }
  });
});
