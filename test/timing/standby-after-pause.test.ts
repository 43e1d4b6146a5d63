/**
 * The server page loads its in-browser standby model only once the visitor pauses: loading it
 * takes the CPU for most of a second, which the readings the visitor waits for must not share
 * (page.ts, loadStandbyAfterPause). A matter of timing, so it runs with the timing project,
 * alone (vitest.config.ts).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { browserPerFile } from '../e2e/browser-per-file.ts';
import { DIGIT_STROKES } from '../e2e/digit-strokes.ts';
import { drawWithMouse, ensureBuilt, REPO, resultFor, watchConsole } from '../e2e/helpers.ts';

const newContext = browserPerFile();
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = await buildApp({
    webRoot: await ensureBuilt('web'),
    modelDir: join(REPO, 'models', 'mnist-cnn'),
    rateLimit: 0,
    workers: 1,
  });
  url = `${await app.listen({ port: 0, host: '127.0.0.1' })}/`;
  await app.inference.whenReady();
});

afterAll(async () => {
  await app?.close();
});

describe('the server page', () => {
  test('loads the standby model in a pause, not while the visitor draws and reads', async () => {
    const page = await (await newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const watch = watchConsole(page);
    const modelAskedAt: number[] = [];
    page.on('request', (req) => {
      if (req.url().endsWith('/model.json')) modelAskedAt.push(Date.now());
    });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    // Drawn and read one after the other, with pauses shorter than the standby's wait.
    const digits = [3, 8, 1];
    for (const digit of digits) {
      await drawWithMouse(page, DIGIT_STROKES[digit]);
      expect(await resultFor(page, DIGIT_STROKES[digit].length)).toBe(String(digit));
      await page.getByTestId('clear').click();
      await page.waitForTimeout(300);
    }
    const drawingEnded = Date.now();
    expect(modelAskedAt).toEqual([]);
    // Then, the visitor paused: the standby loads.
    await expect
      .poll(() => page.getByTestId('status').textContent(), { timeout: 60_000 })
      .toMatch(/standing by/);
    expect(modelAskedAt.length).toBeGreaterThan(0);
    expect(modelAskedAt[0]).toBeGreaterThanOrEqual(drawingEnded);
    expect(watch.problems).toEqual([]);
  });
});
