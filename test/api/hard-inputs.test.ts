/**
 * Inputs at the largest accepted size that are no digit and no number (issue 26): salt
 * noise, scribbles over the whole page, hundreds of separate marks. Each is answered, 200 or
 * 422, within a bound, by POST /api/read (both layouts) and POST /api/predict, and the server
 * is healthy afterwards. Reading such a page once grew with the square of its pixels (4.4 s
 * at 768x768, minutes at 2048x2048).
 */
import { createCanvas } from '@napi-rs/canvas';
import type { FastifyInstance } from 'fastify';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { expectHealthy, readyApp } from './contract.ts';
import { dataUrl } from './images.ts';

const SIDE = 2048;
/**
 * Each answer within this long. The target on an idle machine is 1 s (issue 26); the bound
 * leaves room for a test run sharing two cores with other test files (400 marks read as
 * lines took 3.4 s at load 7.6), and still catches work that grows with the square of the
 * pixels (minutes at this size).
 */
const BOUND_MS = 10_000;

/** `side` x `side` of white with 200,000 black dots (at 2048), deflated hard. */
function saltNoise(): Buffer {
  const rng = new Random(1);
  const png = new PNG({ width: SIDE, height: SIDE });
  png.data.fill(255);
  for (let i = 0; i < 200_000; i++) {
    const p = 4 * rng.int(SIDE * SIDE);
    png.data.fill(0, p, p + 3);
  }
  return PNG.sync.write(png, { deflateLevel: 9 });
}

/** A white page and a black round pen `pen` px wide. */
function page(pen: number) {
  const canvas = createCanvas(SIDE, SIDE);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, SIDE, SIDE);
  g.strokeStyle = '#000';
  g.lineWidth = pen;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  return { g, png: () => canvas.toBuffer('image/png') };
}

/** Long random strokes back and forth over the whole page, a pen 12 px wide. */
function scribbles(): Buffer {
  const rng = new Random(2);
  const { g, png } = page(12);
  for (let s = 0; s < 40; s++) {
    g.beginPath();
    g.moveTo(rng.int(SIDE), rng.int(SIDE));
    for (let p = 0; p < 12; p++) g.lineTo(rng.int(SIDE), rng.int(SIDE));
    g.stroke();
  }
  return png();
}

/** 400 separate short marks on a 20x20 grid over the page. */
function manyMarks(): Buffer {
  const rng = new Random(3);
  const { g, png } = page(8);
  const cell = SIDE / 20;
  for (let row = 0; row < 20; row++)
    for (let col = 0; col < 20; col++) {
      const [x, y] = [col * cell + cell / 2, row * cell + cell / 2];
      g.beginPath();
      g.moveTo(x - 15 + rng.int(10), y - 25 + rng.int(10));
      g.lineTo(x + 5 - rng.int(10), y + 25 - rng.int(10));
      g.stroke();
    }
  return png();
}

let app: FastifyInstance;
let clients = 0;
const pages: [string, string][] = [];

beforeAll(async () => {
  app = await readyApp();
  pages.push(
    ['salt noise (200,000 dots)', dataUrl(saltNoise())],
    ['40 scribbles over the page', dataUrl(scribbles())],
    ['400 separate marks', dataUrl(manyMarks())],
  );
}, 120_000);

afterAll(async () => {
  await app?.close();
});

describe(`${SIDE}x${SIDE} pages that are no digit and no number`, () => {
  const requests: [string, string, object][] = [
    ['POST /api/read', '/api/read', {}],
    ['POST /api/read (layout "lines")', '/api/read', { layout: 'lines' }],
    ['POST /api/predict', '/api/predict', {}],
  ];
  for (const [name, url, extra] of requests) {
    it(`${name} answers each 200 or 422 within ${BOUND_MS / 1000} s`, async () => {
      for (const [page, image] of pages) {
        const start = performance.now();
        // A client of its own each: injected requests never end their upload's 'close', so
        // a client's next large upload would be refused as one still being read.
        const res = await app.inject({
          method: 'POST',
          url,
          payload: { image, ...extra },
          remoteAddress: `127.0.3.${++clients}`,
        });
        const ms = performance.now() - start;
        console.log(`${name}, ${page}: ${res.statusCode} in ${ms.toFixed(0)} ms`);
        expect([200, 422], `${page}: ${res.body.slice(0, 200)}`).toContain(res.statusCode);
        if (res.statusCode === 422) {
          expect(['invalid_image', 'empty_image']).toContain(res.json().error.code);
        }
        expect(ms, page).toBeLessThan(BOUND_MS);
      }
      await expectHealthy(app);
    });
  }
});
