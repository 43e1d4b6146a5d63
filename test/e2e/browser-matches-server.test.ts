/**
 * The in-browser model answers as the server does (issue 25): 300 drawings (digits and
 * numbers of 2-5 digits, each slanted, scaled, moved and drawn with its own pen) are read by
 * the static site's own recognition worker, in Chromium, and by the Recognizer the server's
 * workers run, in Node, from the same pixels. Same weights, same core: the same text, the same
 * digits, and confidences equal to 1e-4 (the two wasm builds may order a sum differently).
 */
import { createCanvas } from '@napi-rs/canvas';
import { describe, expect, test } from 'vitest';
import { Random } from '../../src/core/random.ts';
import type { GrayBitmap } from '../../src/core/preprocess.ts';
import type { Reading } from '../../src/recognizer/answers.ts';
import { loadRecognizer } from '../../src/recognizer/node.ts';
import { draw } from '../api/images.ts';
import { browserPerFile, staticSitePerFile } from './browser-per-file.ts';
import { DIGIT_STROKES, numberStrokes, type Stroke } from './digit-strokes.ts';

const newContext = browserPerFile();
const siteUrl = staticSitePerFile();

/** `strokes` (in units of the height) drawn dark on white, `height` px high. */
function render(strokes: readonly Stroke[], height: number, pen: number): GrayBitmap {
  const right = Math.max(...strokes.flat().map(([u]) => u));
  const width = Math.ceil((right + 0.3) * height);
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  draw(g, strokes, height, '#000', pen);
  const rgba = g.getImageData(0, 0, width, height).data;
  const data = new Uint8ClampedArray(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rgba[i * 4];
  return { width, height, data };
}

/** Slanted by `slant`, scaled by `k` about the middle, moved by (du, dv). */
function varied(strokes: readonly Stroke[], rng: Random): Stroke[] {
  const slant = rng.uniform(-0.25, 0.25);
  const k = rng.uniform(0.7, 1.1);
  const [du, dv] = [rng.uniform(0.1, 0.3), rng.uniform(-0.08, 0.08)];
  return strokes.map((s) =>
    s.map(([u, v]) => [du + k * (u + slant * (0.5 - v)), 0.5 + dv + k * (v - 0.5)] as const),
  );
}

function drawings(): GrayBitmap[] {
  const rng = new Random(25);
  const out: GrayBitmap[] = [];
  for (let i = 0; i < 300; i++) {
    const text =
      i < 150
        ? String(i % 10)
        : Array.from({ length: 2 + rng.int(4) }, () => String(rng.int(10))).join('');
    const strokes = text.length === 1 ? DIGIT_STROKES[Number(text)] : numberStrokes(text);
    const height = 96 + rng.int(64);
    out.push(render(varied(strokes, rng), height, height * rng.uniform(0.04, 0.1)));
  }
  return out;
}

interface Answer {
  text: string;
  digits: { digit: number; confidence: number }[];
}

const answerOf = (reading: Reading): Answer => ({
  text: reading.text,
  digits: reading.digits.map(({ digit, confidence }) => ({ digit, confidence })),
});

describe('the in-browser model', () => {
  test('reads 300 drawings as the server does', async () => {
    const bitmaps = drawings();
    const recognizer = await loadRecognizer(undefined, { warmUp: false });
    const inNode = bitmaps.map((b) =>
      answerOf(recognizer.read(b, { ink: 'dark', ensemble: 'vote' })),
    );

    const page = await (await newContext()).newPage();
    await page.goto(siteUrl());
    await page.waitForSelector('[data-testid="status"][data-state="ready"]', { timeout: 60_000 });
    // The site's own worker script, as the page started it, asked to load and read.
    const workerUrl = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((r) => r.name)
        .find((name) => /recognition-worker-[\w-]+\.js$/.test(name))!,
    );
    const inBrowser: Answer[] = await page.evaluate(
      async ({ workerUrl, drawings }) => {
        const worker = new Worker(workerUrl, { type: 'module' });
        const next = () =>
          new Promise<{ type: string; reading?: Reading; error?: unknown }>((ok) =>
            worker.addEventListener('message', (e) => ok(e.data), { once: true }),
          );
        const model = (folder: string) =>
          new URL(`models/${folder}/model.json`, document.baseURI).href;
        worker.postMessage({
          type: 'load',
          request: {
            urls: {
              digit: model('mnist-cnn'),
              line: model('line-cnn'),
              paperLine: model('line-paper'),
            },
            backend: 'wasm',
            remembered: null,
            wasmThreads: false,
          },
        });
        const loaded = await next();
        if (loaded.type !== 'loaded') throw new Error(JSON.stringify(loaded));
        const answers = [];
        for (const [id, { width, height, data }] of drawings.entries()) {
          const bitmap = {
            width,
            height,
            data: Uint8ClampedArray.from(atob(data), (c) => c.charCodeAt(0)),
          };
          worker.postMessage({ type: 'read', id, bitmap, ensemble: 'vote' });
          const answer = await next();
          if (answer.type !== 'read') throw new Error(JSON.stringify(answer));
          const { text, digits } = answer.reading!;
          answers.push({
            text,
            digits: digits.map(({ digit, confidence }) => ({ digit, confidence })),
          });
        }
        worker.terminate();
        return answers;
      },
      {
        workerUrl,
        drawings: bitmaps.map(({ width, height, data }) => ({
          width,
          height,
          data: Buffer.from(data).toString('base64'),
        })),
      },
    );

    expect(inBrowser.map((a) => a.text)).toEqual(inNode.map((a) => a.text));
    let largest = 0;
    inBrowser.forEach((a, i) =>
      a.digits.forEach((d, k) => {
        expect(d.digit).toBe(inNode[i].digits[k].digit);
        largest = Math.max(largest, Math.abs(d.confidence - inNode[i].digits[k].confidence));
      }),
    );
    console.log(
      `300 drawings, ${inNode.flatMap((a) => a.digits).length} digits: the largest confidence difference ${largest.toExponential(1)}`,
    );
    expect(largest).toBeLessThan(1e-4);
    // Not a test of nothing: the drawings were read, mostly as digits.
    expect(inNode.filter((a) => a.digits.length > 0).length).toBeGreaterThan(250);
  });
});
