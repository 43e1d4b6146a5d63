/** POST /api/read and /api/read/batch: the answers of the contract (design.md, "Numbers"). */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectError,
  expectHealthy,
  expectRecognition,
  postJson,
  type ErrorBody,
  type RecognitionBody,
  readyApp,
} from './contract.ts';
import { dataUrl, drawDigit, drawNumber, FOUR, grayPixels, SEVEN, whitePng } from './images.ts';

interface DigitBody extends RecognitionBody {
  box: { x: number; y: number; width: number; height: number };
}

interface ReadingBody {
  text: string;
  digits: DigitBody[];
  marks: { kind: 'separator' | 'other'; box: DigitBody['box'] }[];
  unsure: boolean;
  reason: 'not_a_number' | 'ambiguous' | null;
  ms: number;
}

function expectReading(body: unknown, ensemble = 'vote'): ReadingBody {
  const r = body as ReadingBody;
  expect(Object.keys(r).sort()).toEqual(['digits', 'marks', 'ms', 'reason', 'text', 'unsure']);
  expect(r.text).toBe(r.digits.map((d) => d.digit).join(''));
  expect(r.unsure).toBe(r.reason !== null);
  if (r.reason === 'ambiguous') expect(r.digits.some((d) => d.unsure)).toBe(true);
  if (r.digits.some((d) => d.unsure)) expect(r.unsure).toBe(true);
  for (const m of r.marks) expect(['separator', 'other']).toContain(m.kind);
  expect(r.ms).toBeGreaterThanOrEqual(0);
  for (const d of r.digits) {
    const { box, ...recognition } = d;
    expectRecognition(recognition, ensemble, r.digits.length > 1);
    expect(Object.keys(box).sort()).toEqual(['height', 'width', 'x', 'y']);
    expect(Object.values(box).every(Number.isInteger)).toBe(true);
  }
  return r;
}

let app: FastifyInstance;
// 7 4 4 7 at half the pad's scale, 160 px apart: each digit in its own 160-px column.
const number = drawNumber([SEVEN, FOUR, FOUR, SEVEN]);
const numberUrl = dataUrl(number.png());

beforeAll(async () => {
  app = await readyApp();
}, 120_000);

afterAll(async () => {
  await app?.close();
});

describe('POST /api/read', () => {
  it('reads a number left to right, with each digit and its box in the image', async () => {
    const res = await postJson(app, '/api/read', { image: numberUrl });
    expect(res.statusCode, res.body).toBe(200);
    const r = expectReading(res.json());
    expect(r.text).toBe('7447');
    // The strokes of digit i lie in x 35+160i .. 105+160i (a 9 px brush around them).
    r.digits.forEach((d, i) => {
      expect(d.box.x).toBeGreaterThanOrEqual(160 * i + 25);
      expect(d.box.x + d.box.width).toBeLessThanOrEqual(160 * i + 115);
      expect(d.box.y).toBeGreaterThanOrEqual(15);
      expect(d.box.y + d.box.height).toBeLessThanOrEqual(125);
    });
  });

  it('gives one drawn digit exactly as /api/predict recognizes it', async () => {
    for (const strokes of [SEVEN, FOUR]) {
      const image = dataUrl(drawDigit(strokes).png());
      const read = expectReading((await postJson(app, '/api/read', { image })).json());
      const predict = expectRecognition((await postJson(app, '/api/predict', { image })).json());
      expect(read.digits).toHaveLength(1);
      const { box, ...digit } = read.digits[0];
      // Everything but the timing is the same.
      expect({ ...digit, ms: 0 }).toEqual({ ...predict, ms: 0 });
      expect(box.width).toBeGreaterThan(100);
    }
  });

  it('takes pixels, light ink and every ensemble mode', async () => {
    const pixels = grayPixels(number);
    const res = await postJson(app, '/api/read', {
      pixels: pixels.map((v) => 255 - v),
      width: number.width,
      height: number.height,
      ink: 'light',
      ensemble: 'off',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(expectReading(res.json(), 'off').text).toBe('7447');
  });

  it('answers 422 empty_image for a blank page, 422 invalid_image for a broken one', async () => {
    expectError(
      await postJson(app, '/api/read', { image: dataUrl(whitePng(600, 200)) }),
      422,
      'empty_image',
    );
    expectError(
      await postJson(app, '/api/read', { image: 'data:image/png;base64,iVBORw0KGgoAAAA' }),
      422,
      'invalid_image',
    );
    await expectHealthy(app);
  });

  it('refuses bad bodies with 400 invalid_request, as /api/predict does', async () => {
    const cases: unknown[] = [
      {},
      { image: numberUrl, pixels: [0] },
      { pixels: [0, 0, 0], width: 2, height: 2 },
      { image: numberUrl, extra: 1 },
      { image: numberUrl, ensemble: 'most' },
    ];
    for (const body of cases) {
      expectError(await postJson(app, '/api/read', body), 400, 'invalid_request');
    }
    await expectHealthy(app);
  });

  it('reads a page line by line with layout "lines", each line with its box and digits', async () => {
    const [top, bottom] = [drawNumber([SEVEN, FOUR, SEVEN]), drawNumber([FOUR, SEVEN])];
    const width = Math.max(top.width, bottom.width);
    const gap = 40;
    const height = top.height + gap + bottom.height;
    const pixels = new Array<number>(width * height).fill(255);
    for (const [drawing, y0] of [
      [top, 0],
      [bottom, top.height + gap],
    ] as const) {
      const gray = grayPixels(drawing);
      for (let y = 0; y < drawing.height; y++)
        for (let x = 0; x < drawing.width; x++)
          pixels[(y0 + y) * width + x] = gray[y * drawing.width + x];
    }
    const res = await postJson(app, '/api/read', { pixels, width, height, layout: 'lines' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as ReadingBody & {
      lines: { text: string; box: DigitBody['box']; first: number; count: number }[];
    };
    expect(body.text).toBe('747\n47');
    expect(body.lines.map((l) => [l.text, l.first, l.count])).toEqual([
      ['747', 0, 3],
      ['47', 3, 2],
    ]);
    expect(body.lines[0].box.y + body.lines[0].box.height).toBeLessThanOrEqual(top.height);
    expect(body.lines[1].box.y).toBeGreaterThanOrEqual(top.height + gap);
    expect(body.digits.slice(3).every((d) => d.box.y >= top.height + gap)).toBe(true);
    // Without a layout, the same body is one number, with no `lines`.
    const one = await postJson(app, '/api/read', { image: numberUrl, layout: 'number' });
    expect(expectReading(one.json()).text).toBe('7447');
  });

  it('refuses a layout on /api/predict, and a layout it does not know', async () => {
    expectError(
      await postJson(app, '/api/predict', { image: numberUrl, layout: 'lines' }),
      400,
      'invalid_request',
    );
    expectError(
      await postJson(app, '/api/read', { image: numberUrl, layout: 'columns' }),
      400,
      'invalid_request',
    );
  });

  it('refuses a page of scattered dots, far more marks than a number has', async () => {
    const [width, height] = [220, 70];
    const pixels = new Array<number>(width * height).fill(255);
    for (let i = 0; i < 100; i++) {
      const [x0, y0] = [10 + (i % 20) * 10, 10 + Math.floor(i / 20) * 10];
      for (let y = y0; y < y0 + 4; y++) for (let x = x0; x < x0 + 4; x++) pixels[y * width + x] = 0;
    }
    const message = expectError(
      await postJson(app, '/api/read', { pixels, width, height }),
      422,
      'invalid_image',
    );
    expect(message).toMatch(/100 separate marks/);
    await expectHealthy(app);
  });
});

describe('POST /api/read/batch', () => {
  it('answers each item in order: a reading, or that item’s own error', async () => {
    const res = await postJson(app, '/api/read/batch', {
      items: [
        { image: numberUrl },
        { image: dataUrl(whitePng()) },
        { pixels: [1, 2], width: 3, height: 3 },
        { image: dataUrl(drawDigit(SEVEN).png()), ensemble: 'mean' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const { results } = res.json<{ results: (ReadingBody | ErrorBody)[] }>();
    expect(results).toHaveLength(4);
    expect(expectReading(results[0]).text).toBe('7447');
    expect((results[1] as ErrorBody).error.code).toBe('empty_image');
    expect((results[1] as ErrorBody).error.message).toMatch(/^items\[1\]: /);
    expect((results[2] as ErrorBody).error.code).toBe('invalid_request');
    expect((results[2] as ErrorBody).error.message).toMatch(/^items\[2\]: /);
    expect(expectReading(results[3], 'mean').text).toBe('7');
  });

  it('refuses a body without items', async () => {
    expectError(
      await postJson(app, '/api/read/batch', { image: numberUrl }),
      400,
      'invalid_request',
    );
  });
});

describe('OpenAPI', () => {
  it('documents both routes with the reading schema', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, { post?: { responses: Record<string, unknown> } }>;
    }>();
    for (const path of ['/api/read', '/api/read/batch']) {
      expect(doc.paths[path]?.post?.responses['200']).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/api/read'])).toContain('"box"');
  });
});
