/**
 * The static site (npm run build:static -> dist/static/): the model runs in the browser, no
 * API server anywhere. Served from a sub-path by a plain file server, as a static host would.
 */
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { browserPerFile, staticSitePerFile } from './browser-per-file.ts';
import { DIGIT_STROKES, DIGITS_TO_DRAW, numberStrokes } from './digit-strokes.ts';
import {
  drawWithMouse,
  drawWithTouch,
  ensureBuilt,
  padBox,
  resultFor,
  screenshotPath,
  THREADED_WASM,
  serveStatic,
  swipe,
  watchConsole,
  type ConsoleWatch,
} from './helpers.ts';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../../src/web/cross-origin-isolation.ts';
import {
  boxesOverDigits,
  checkPhoto,
  digitCentres,
  shownPhoto,
  uploadPhoto,
  waitForPhotoReading,
  type UploadFile,
} from './paper-photo.ts';

const newContext = browserPerFile();
const siteUrl = staticSitePerFile();

/**
 * Opens the site (or `url`) and waits until the in-browser model is loaded; `before` runs
 * before the page is opened.
 */
async function open(
  options: BrowserContextOptions,
  url = siteUrl(),
  before: (page: Page) => Promise<void> = async () => {},
): Promise<{ page: Page; watch: ConsoleWatch; requests: string[] }> {
  const page = await (await newContext(options)).newPage();
  await before(page);
  const watch = watchConsole(page);
  const requests: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(url);
  await page.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: 60_000 });
  return { page, watch, requests };
}

/**
 * Gives the page a file as a person dragging it from their files would (`drop` on the pad's
 * card) or pasting it (`paste` on the page), through the same DataTransfer a browser makes.
 */
async function handOver(page: Page, file: UploadFile, how: 'drop' | 'paste'): Promise<void> {
  await page.evaluate(
    ({ name, mimeType, base64, how }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: mimeType }));
      const target = how === 'drop' ? document.getElementById('pad-card')! : document.body;
      const event =
        how === 'drop'
          ? new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true })
          : new ClipboardEvent('paste', {
              clipboardData: transfer,
              bubbles: true,
              cancelable: true,
            });
      target.dispatchEvent(event);
    },
    { name: file.name, mimeType: file.mimeType, base64: file.buffer.toString('base64'), how },
  );
}

/** Dark pixels on the pad (its backing store). */
function inkPixels(page: Page): Promise<number> {
  return page.getByTestId('pad').evaluate((canvas: HTMLCanvasElement) => {
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 128) n++;
    return n;
  });
}

describe('static site, recognition in the browser', () => {
  test('reads a number drawn with the mouse, in the browser', async () => {
    const { page, watch } = await open({ viewport: { width: 1280, height: 800 } });
    const strokes = numberStrokes('3150');
    await drawWithMouse(page, strokes, 8);
    expect(await resultFor(page, strokes.length)).toBe('3150');
    expect(await page.getByTestId('digit').count()).toBe(4);
    expect(await page.getByTestId('digit-box').count()).toBe(4);
    expect(await page.getByTestId('digit-confidence').first().textContent()).toMatch(/%$/);
    await page.getByTestId('digit').nth(3).click();
    expect(await page.getByTestId('confidence').textContent()).toMatch(/^Digit 4 of 4/);
    expect(await page.getByTestId('timing').textContent()).toMatch(/in your browser/);
    await page.waitForTimeout(400);
    await page.screenshot({ path: screenshotPath('static-number-1280x800.png') });
    expect(watch.problems).toEqual([]);
  });

  test('reads a photo of a check in the browser: uploaded, dropped or pasted', async () => {
    for (const viewport of [
      { width: 390, height: 844 },
      { width: 1280, height: 800 },
    ]) {
      const { page, watch, requests } = await open({ viewport });
      const check = checkPhoto('2047');
      await uploadPhoto(page, { name: 'check.jpg', mimeType: 'image/jpeg', buffer: check.jpeg });
      expect(await page.getByTestId('result').textContent()).toBe('2047');
      expect(await page.getByTestId('photo').isVisible()).toBe(true);
      const shown = await shownPhoto(page);
      expect(boxesOverDigits(shown, digitCentres(check, 4))).toEqual([]);
      expect(shown.photo.x + shown.photo.width).toBeLessThanOrEqual(viewport.width);
      expect(await page.getByTestId('timing').textContent()).toMatch(/in your browser/);
      await page.waitForTimeout(400); // the bars' transition
      await page.screenshot({
        path: screenshotPath(`static-photo-${viewport.width}x${viewport.height}.png`),
        fullPage: true,
      });
      expect(requests.filter((u) => !u.startsWith(siteUrl()))).toEqual([]);
      expect(watch.problems).toEqual([]);
      await page.context().close();
    }

    const { page, watch } = await open({ viewport: { width: 1280, height: 800 } });
    for (const [how, text] of [
      ['drop', '3150'],
      ['paste', '4705'],
    ] as const) {
      const check = checkPhoto(text, 1500, 500);
      await handOver(page, { name: 'image.png', mimeType: 'image/jpeg', buffer: check.jpeg }, how);
      await expect
        .poll(() => page.getByTestId('result').textContent(), { timeout: 60_000 })
        .toBe(text);
      await waitForPhotoReading(page);
      expect(boxesOverDigits(await shownPhoto(page), digitCentres(check, 4)), how).toEqual([]);
    }
    // Escape goes back to the pad, which is clear.
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('pad').isVisible()).toBe(true);
    expect(await page.getByTestId('result').textContent()).toBe('');
    expect(watch.problems).toEqual([]);
  });

  test('recognises digits drawn with the mouse, with no server at all', async () => {
    const { page, watch, requests } = await open({ viewport: { width: 1280, height: 800 } });
    // No choice of a server that does not exist; the status says where the model runs.
    await expect(page.locator('#mode-choice').isHidden()).resolves.toBe(true);
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/in this browser/);

    for (const digit of DIGITS_TO_DRAW) {
      const strokes = DIGIT_STROKES[digit];
      await drawWithMouse(page, strokes);
      const got = await resultFor(page, strokes.length);
      expect(got, `drawn ${digit}`).toBe(String(digit));
      if (digit === 7) {
        await page.waitForTimeout(400); // the bars' transition
        await page.screenshot({ path: screenshotPath('static-desktop-1280x800.png') });
      }
      await page.getByTestId('clear').click();
      await expect(page.getByTestId('result').textContent()).resolves.toBe('');
    }

    // What the answer shows, for the last drawing (drawn again).
    await drawWithMouse(page, DIGIT_STROKES[3]);
    await resultFor(page, DIGIT_STROKES[3].length);
    await expect(page.getByTestId('timing').textContent()).resolves.toMatch(
      /ms in your browser \(WebAssembly\)/,
    );
    await expect(page.getByTestId('confidence').textContent()).resolves.toMatch(/\d+(\.\d)?%/);
    const bars = page.getByTestId('probabilities').getByRole('meter');
    await expect(bars.count()).resolves.toBe(10);
    await expect(bars.nth(3).getAttribute('aria-valuetext')).resolves.toMatch(/%, \d+ of 10 votes/);
    const previewInk = await page.getByTestId('preview').evaluate((c: HTMLCanvasElement) => {
      const { data } = c.getContext('2d')!.getImageData(0, 0, 28, 28);
      let sum = 0;
      for (let i = 0; i < data.length; i += 4) sum += data[i];
      return sum / 255;
    });
    expect(previewInk).toBeGreaterThan(20);
    await expect(page.locator('#announcer').textContent()).resolves.toMatch(/Recognised 3/);

    expect(requests.filter((u) => u.includes('/api/'))).toEqual([]);
    // Hosted under a sub-path (a project page): every file, the model and the wasm binaries
    // included, comes from under it; nothing is asked of the host's root.
    expect(requests.filter((u) => !u.startsWith(siteUrl()))).toEqual([]);
    expect(requests.some((u) => u.startsWith(`${siteUrl()}models/mnist-cnn/`))).toBe(true);
    expect(watch.problems).toEqual([]);
  });

  test('touch draws on the pad without scrolling the page', async () => {
    const { page, watch } = await open({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    // The phone layout is taller than the screen, so a swipe could scroll it.
    const scrollable = await page.evaluate(
      () => document.documentElement.scrollHeight > window.innerHeight + 50,
    );
    expect(scrollable).toBe(true);
    // The backing store follows the pixel ratio, the pad fits the narrow screen.
    const pad = await page
      .getByTestId('pad')
      .evaluate((c: HTMLCanvasElement) => ({ w: c.width, css: c.clientWidth }));
    expect(pad.w).toBeGreaterThanOrEqual(pad.css * 2.9);
    expect((await padBox(page)).size).toBeLessThanOrEqual(390 - 16);

    await drawWithTouch(page, DIGIT_STROKES[7]);
    expect(await resultFor(page, DIGIT_STROKES[7].length)).toBe('7');
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    await page.waitForTimeout(400); // the bars' transition
    await page.screenshot({ path: screenshotPath('static-phone-390x844.png') });
    await page.screenshot({
      path: screenshotPath('static-phone-390x844-full.png'),
      fullPage: true,
    });

    // A vertical swipe on the pad draws a 1 and still does not scroll.
    await page.getByTestId('clear').tap();
    await drawWithTouch(page, DIGIT_STROKES[1]);
    expect(await resultFor(page, 1)).toBe('1');
    expect(await page.evaluate(() => window.scrollY)).toBe(0);

    // The same swipe off the pad does scroll the page (so the check above means something).
    const box = await padBox(page);
    const below = box.y + box.size + 90;
    await swipe(page, { x: 200, y: below + 150 }, { x: 200, y: below - 150 });
    await page.waitForFunction(() => window.scrollY > 0, null, { timeout: 5_000 });

    expect(watch.problems).toEqual([]);
  });

  test('Undo and Clear, by button and keyboard; an empty pad predicts nothing', async () => {
    const { page, watch } = await open({ viewport: { width: 1024, height: 768 } });
    await expect(page.getByTestId('undo').isDisabled()).resolves.toBe(true);

    // Pressing Predict on an empty pad: a message, no answer.
    await page.getByTestId('predict').click();
    await expect(page.getByTestId('message').textContent()).resolves.toMatch(/empty/i);
    await expect(page.getByTestId('result').textContent()).resolves.toBe('');

    // A 4 in two strokes; Undo removes the upright only.
    await drawWithMouse(page, DIGIT_STROKES[4]);
    expect(await resultFor(page, 2)).toBe('4');
    const both = await inkPixels(page);
    await page.getByTestId('undo').click();
    const one = await inkPixels(page);
    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThan(both);
    await resultFor(page, 1); // the remaining stroke is recognised again
    // Ctrl+Z removes the other: the pad is empty and the answer is gone.
    await page.keyboard.press('Control+z');
    expect(await inkPixels(page)).toBe(0);
    await expect(page.getByTestId('result').textContent()).resolves.toBe('');
    await expect(page.getByTestId('undo').isDisabled()).resolves.toBe(true);

    // Esc clears everything at once.
    await drawWithMouse(page, DIGIT_STROKES[5]);
    expect(await resultFor(page, 2)).toBe('5');
    await page.keyboard.press('Escape');
    expect(await inkPixels(page)).toBe(0);
    await expect(page.getByTestId('result').textContent()).resolves.toBe('');
    await page.waitForTimeout(600); // no late answer for the erased drawing
    await expect(page.getByTestId('result').textContent()).resolves.toBe('');

    // The Clear button; then Predict on the empty pad again.
    await drawWithMouse(page, DIGIT_STROKES[1]);
    await page.getByTestId('predict').click();
    expect(await resultFor(page, 1)).toBe('1');
    await page.getByTestId('clear').click();
    expect(await inkPixels(page)).toBe(0);
    await page.getByTestId('predict').click();
    await expect(page.getByTestId('message').isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('result').textContent()).resolves.toBe('');

    // The controls are reachable with the keyboard, with a visible focus ring.
    await drawWithMouse(page, DIGIT_STROKES[1]);
    await page.locator('body').focus();
    const focused: string[] = [];
    // Round the page once from where the last click left the focus (the controls, "Read a
    // photo", the settings, the skip link), and on to the toolbar again.
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      focused.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          const outline = getComputedStyle(el).outlineStyle;
          return `${el.dataset.testid ?? el.id}:${outline}`;
        }),
      );
    }
    expect(focused).toEqual(expect.arrayContaining(['undo:solid', 'clear:solid', 'predict:solid']));

    expect(watch.problems).toEqual([]);
  });
});

/** How the page's model was loaded: its backend, threads and how the backend was chosen. */
async function modelReady(page: Page): Promise<ModelReady> {
  return page.evaluate(
    () =>
      (performance.getEntriesByName('digits:model-ready')[0] as PerformanceMark)
        .detail as ModelReady,
  );
}

interface ModelReady {
  backend: string;
  threads: number | null;
  choice: { how: string; times: Record<string, number> };
}

describe('the backend the model runs on', () => {
  test('WebAssembly here (no GPU, nothing to measure); WebGL or JavaScript when asked: the same answers', async () => {
    const answers: Record<string, { text: string; confidence: string }[]> = {};
    const engines: Record<string, RegExp> = {
      '': /\(WebAssembly, loaded/,
      '?backend=webgl': /\(WebGL, loaded/,
      // The plain JavaScript backend is fetched only when it is used.
      '?backend=cpu': /\(JavaScript, loaded/,
    };
    for (const query of Object.keys(engines)) {
      const { page, watch } = await open(
        { viewport: { width: 1280, height: 800 } },
        siteUrl() + query,
      );
      const ready = await modelReady(page);
      if (query === '') {
        // Headless Chromium's WebGL is SwiftShader, software: WebAssembly without timing both.
        expect(ready).toMatchObject({ backend: 'wasm', threads: 1, choice: { how: 'only' } });
      } else {
        const backend = query.slice('?backend='.length);
        expect(ready).toMatchObject({ backend, threads: null, choice: { how: 'asked' } });
      }
      answers[query] = [];
      for (const digit of [7, 4]) {
        await drawWithMouse(page, DIGIT_STROKES[digit]);
        const text = await resultFor(page, DIGIT_STROKES[digit].length, 60_000);
        const confidence = (await page.getByTestId('confidence').textContent()) ?? '';
        answers[query].push({ text, confidence });
        await page.getByTestId('clear').click();
      }
      expect(answers[query].map((a) => a.text)).toEqual(['7', '4']);
      expect(await page.getByTestId('status').textContent()).toMatch(engines[query]);
      expect(watch.problems).toEqual([]);
      await page.context().close();
    }
    // The same confidences, to the tenth of a percent shown.
    expect(answers['?backend=webgl']).toEqual(answers['']);
    expect(answers['?backend=cpu']).toEqual(answers['']);
  });

  test('cross-origin isolated (COOP and COEP): wasm threads with 4 cores or more', async () => {
    const dir = await ensureBuilt('static');
    const isolated = await serveStatic(dir, '/digits/', CROSS_ORIGIN_ISOLATION_HEADERS);
    try {
      // The machine's own cores (2 here: the SIMD build), then a page told it has 4.
      for (const cores of [null, 4]) {
        const { page, watch, requests } = await open(
          { viewport: { width: 1280, height: 800 } },
          isolated.url,
          async (p) => {
            if (cores === null) return;
            const cdp = await p.context().newCDPSession(p);
            await cdp.send('Emulation.setHardwareConcurrencyOverride', {
              hardwareConcurrency: cores,
            });
          },
        );
        const seen = await page.evaluate(() => ({
          isolated: crossOriginIsolated,
          cores: navigator.hardwareConcurrency,
        }));
        expect(seen.isolated).toBe(true);
        // The threaded build gives XNNPACK half the cores: worth it from 4 on.
        expect(requests.some((u) => THREADED_WASM.test(u))).toBe(seen.cores >= 4);
        expect(await modelReady(page)).toMatchObject({ backend: 'wasm' });
        const strokes = numberStrokes('3150');
        await drawWithMouse(page, strokes, 8);
        expect(await resultFor(page, strokes.length)).toBe('3150');
        expect(watch.problems).toEqual([]);
        await page.context().close();
      }
    } finally {
      await isolated.close();
    }
  });
});
