/**
 * Correcting a digit on the page: "Wrong? Pick the right digit" stores the correction, the
 * drawing is answered again with it, the next drawing like it is read right, and "Forget my
 * corrections" undoes it. On the static site (IndexedDB, adaptation in the browser) and on
 * the server page (the server's store and adaptation).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { ANOTHER_ONE, CORRECTED_ONE } from '../api/images.ts';
import { browserPerFile } from './browser-per-file.ts';
import { numberStrokes, type Stroke } from './digit-strokes.ts';
import {
  drawWithMouse,
  ensureBuilt,
  REPO,
  resultFor,
  screenshotPath,
  serveStatic,
  watchConsole,
} from './helpers.ts';

/** The API tests' flagged 1s, which the model alone reads as 7, as fractions of a 280 px pad. */
const padRelative = (strokes: readonly Stroke[]): Stroke[] =>
  strokes.map((stroke) => stroke.map(([x, y]) => [x / 280, y / 280] as const));
const FIRST = padRelative(CORRECTED_ONE);
const NEXT = padRelative(ANOTHER_ONE);

const newContext = browserPerFile();

const shows = (page: Page, digit: string) =>
  page.waitForFunction(
    (d) => document.querySelector('[data-testid="result"]')?.textContent === d,
    digit,
    { timeout: 30_000 },
  );

const adaptedNote = (page: Page) =>
  page.evaluate(() => {
    const note = document.querySelector<HTMLElement>('[data-testid="adapted"]');
    return note && !note.hidden ? note.textContent : null;
  });

/**
 * Draws the flagged 1, corrects it, draws the next one, then forgets. `thenInBrowser`: before
 * forgetting, the next one is read again in "In this browser" mode, adapted there to the
 * corrections the server keeps.
 */
async function correctAndLearn(page: Page, name: string, thenInBrowser = false): Promise<void> {
  await drawWithMouse(page, FIRST);
  expect(await resultFor(page, 1)).toBe('7');
  await expect(page.getByTestId('corrections').isVisible()).resolves.toBe(true);
  // The answer's own digit is no correction.
  await expect(page.getByTestId('correct-7').isDisabled()).resolves.toBe(true);
  await page.getByTestId('correct-1').click();
  await page.waitForFunction(() =>
    /Learned/.test(document.querySelector('[data-testid="correction-status"]')?.textContent ?? ''),
  );
  // The same drawing, answered again with the correction.
  await shows(page, '1');
  await page.screenshot({ path: screenshotPath(`corrections-${name}.png`), fullPage: true });

  await page.getByTestId('clear').click();
  await drawWithMouse(page, NEXT);
  expect(await resultFor(page, 1)).toBe('1');
  expect(await adaptedNote(page)).toBe('Read with your corrections: the model alone reads a 7.');

  if (thenInBrowser) {
    await page.locator('label[for="mode-browser"]').click();
    await page.waitForFunction(
      () =>
        /in your browser/.test(document.querySelector('[data-testid="timing"]')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.getByTestId('result').textContent()).toBe('1');
    expect(await adaptedNote(page)).toMatch(/model alone reads a 7/);
  }

  await page.getByTestId('forget-corrections').click();
  await shows(page, '7');
  expect(await adaptedNote(page)).toBeNull();
}

test('static site: a correction kept in IndexedDB makes the next drawing of it read right', async () => {
  const site = await serveStatic(await ensureBuilt('static'), '/digits/');
  try {
    const page = await (await newContext({ viewport: { width: 390, height: 844 } })).newPage();
    const watch = watchConsole(page);
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(site.url);
    await page.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: 60_000 });
    await correctAndLearn(page, 'static-390');
    expect(requests.filter((url) => url.includes('/api/'))).toEqual([]);
    expect(watch.problems).toEqual([]);
  } finally {
    await site.close();
  }
});

test("server page: the server keeps the correction and adapts this user's answers, in either mode", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'digits-e2e-corrections-'));
  let app: FastifyInstance | undefined;
  let context: BrowserContext | undefined;
  try {
    app = await buildApp({
      webRoot: await ensureBuilt('web'),
      modelDir: join(REPO, 'models', 'mnist-cnn'),
      rateLimit: 0,
      workers: 1,
      corrections: { dataDir },
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    await app.inference.whenReady();
    context = await newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const watch = watchConsole(page);
    await page.goto(`${url}/`);
    await correctAndLearn(page, 'server-1280', true);

    // In a number, the digit corrected stays picked when the number is read again.
    await page.locator('label[for="mode-server"]').click();
    await page.getByTestId('clear').click();
    const strokes = numberStrokes('27');
    await drawWithMouse(page, strokes, 8);
    expect(await resultFor(page, strokes.length)).toBe('27');
    const digits = page.getByTestId('digit');
    const pressed = () =>
      digits.evaluateAll((els) =>
        els.findIndex((el) => el.getAttribute('aria-pressed') === 'true'),
      );
    const other = (await pressed()) === 0 ? 1 : 0;
    await digits.nth(other).click();
    const taught = other === 0 ? '9' : '4';
    await page.getByTestId(`correct-${taught}`).click();
    await page.waitForFunction(
      (d) =>
        new RegExp(`Learned: drawings like this one are your ${d}s`).test(
          document.querySelector('[data-testid="correction-status"]')?.textContent ?? '',
        ),
      taught,
    );
    expect(await pressed()).toBe(other);
    expect(await page.getByTestId('result').textContent()).toBe(
      other === 0 ? `${taught}7` : `2${taught}`,
    );
    expect(watch.problems).toEqual([]);
  } finally {
    // The page first: the server's close waits for every request the page still has open.
    await context?.close();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
