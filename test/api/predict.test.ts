/** POST /api/predict and /api/predict/batch: the answers of the contract (design.md). */
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
import {
  dataUrl,
  drawDigit,
  FOUR,
  grayPixels,
  LETTER_A,
  mnistSeven,
  SCRIBBLE,
  SEVEN,
  truncatedPng,
  whitePng,
} from './images.ts';

let app: FastifyInstance;
const seven = drawDigit(SEVEN);
const sevenUrl = dataUrl(seven.png());

beforeAll(async () => {
  app = await readyApp();
}, 120_000);

afterAll(async () => {
  await app?.close();
});

describe('POST /api/predict', () => {
  it('recognizes a canvas PNG data URL (a clear 7)', async () => {
    const res = await postJson(app, '/api/predict', { image: sevenUrl });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const r = expectRecognition(res.json());
    expect(r.digit).toBe(7);
  });

  it('is sure of a clear 7, and says a drawn letter or a scribble is not a digit', async () => {
    const sure = expectRecognition(
      (await postJson(app, '/api/predict', { image: sevenUrl })).json(),
    );
    expect([sure.unsure, sure.reason]).toEqual([false, null]);
    for (const strokes of [LETTER_A, SCRIBBLE]) {
      const res = await postJson(app, '/api/predict', { image: dataUrl(drawDigit(strokes).png()) });
      const r = expectRecognition(res.json());
      expect([r.unsure, r.reason]).toEqual([true, 'not_a_digit']);
      expect(r.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    }
  });

  it('takes bare base64, a JPEG data URL and a transparent canvas', async () => {
    const bare = await postJson(app, '/api/predict', { image: seven.png().toString('base64') });
    const jpeg = await postJson(app, '/api/predict', {
      image: dataUrl(seven.jpeg(), 'image/jpeg'),
    });
    const clear = await postJson(app, '/api/predict', {
      image: dataUrl(drawDigit(SEVEN, { background: 'transparent' }).png()),
    });
    for (const res of [bare, jpeg, clear]) {
      expect(res.statusCode, res.body).toBe(200);
      expect(expectRecognition(res.json()).digit).toBe(7);
    }
  });

  it('reads a digit photographed on grey, unevenly lit paper, alone and as a number', async () => {
    const photo = drawDigit(SEVEN, { background: 'photo' });
    const image = dataUrl(photo.jpeg(), 'image/jpeg');
    const predicted = await postJson(app, '/api/predict', { image });
    expect(predicted.statusCode, predicted.body).toBe(200);
    const answer = expectRecognition(predicted.json());
    expect([answer.digit, answer.unsure]).toEqual([7, false]);
    // The paper is not read as ink: the model sees the 7 as it sees it drawn on white.
    const onWhite = expectRecognition(
      (await postJson(app, '/api/predict', { image: dataUrl(seven.png()) })).json(),
    );
    const meanDiff =
      answer.input.reduce((sum, v, i) => sum + Math.abs(v - onWhite.input[i]), 0) / 784;
    expect(meanDiff).toBeLessThan(0.1);
    const read = await postJson(app, '/api/read', { image });
    expect(read.json<{ text: string }>().text).toBe('7');
  });

  it('takes pixels and prepares them exactly as the same image sent as PNG', async () => {
    const fromImage = expectRecognition(
      (await postJson(app, '/api/predict', { image: sevenUrl })).json(),
    );
    const res = await postJson(app, '/api/predict', {
      pixels: grayPixels(seven),
      width: seven.width,
      height: seven.height,
    });
    expect(res.statusCode, res.body).toBe(200);
    const fromPixels = expectRecognition(res.json());
    expect(fromPixels.digit).toBe(fromImage.digit);
    fromPixels.input.forEach((v, i) => expect(v).toBeCloseTo(fromImage.input[i], 5));
  });

  it('takes MNIST-style pixels with ink "light"', async () => {
    const res = await postJson(app, '/api/predict', {
      pixels: mnistSeven(),
      width: 28,
      height: 28,
      ink: 'light',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(expectRecognition(res.json()).digit).toBe(7);
  });

  it.each(['vote', 'mean', 'off'])('answers with ensemble %s', async (ensemble) => {
    const res = await postJson(app, '/api/predict', { image: sevenUrl, ensemble });
    expect(res.statusCode, res.body).toBe(200);
    expectRecognition(res.json(), ensemble);
  });

  it('uses vote by default', async () => {
    const res = await postJson(app, '/api/predict', { image: sevenUrl });
    expect(res.json<RecognitionBody>().ensemble).toBe('vote');
  });

  it('accepts a charset in the content type', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/predict',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify({ image: sevenUrl }),
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('answers while other predictions are in flight, each with its own result', async () => {
    const four = dataUrl(drawDigit(FOUR).png());
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        postJson(app, '/api/predict', {
          image: i % 2 ? four : sevenUrl,
          ensemble: i % 3 ? 'vote' : 'off',
        }),
      ),
    );
    answers.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      const r = expectRecognition(res.json(), i % 3 ? 'vote' : 'off');
      if (i % 2 === 0) expect(r.digit).toBe(7);
    });
  });
});

describe('POST /api/predict/batch', () => {
  it('answers every item in order, with the batch ensemble or the item’s own', async () => {
    const res = await postJson(app, '/api/predict/batch', {
      ensemble: 'mean',
      items: [
        { image: sevenUrl },
        { image: sevenUrl, ensemble: 'off' },
        { pixels: mnistSeven(), width: 28, height: 28, ink: 'light', ensemble: 'vote' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const { results } = res.json<{ results: RecognitionBody[] }>();
    expect(results).toHaveLength(3);
    expectRecognition(results[0], 'mean');
    expectRecognition(results[1], 'off');
    expectRecognition(results[2], 'vote');
    expect(results.map((r) => r.digit)).toEqual([7, 7, 7]);
  });

  it('gives each bad item its own error and still answers the good ones', async () => {
    const res = await postJson(app, '/api/predict/batch', {
      items: [
        { image: sevenUrl },
        { image: 'bm90IGFuIGltYWdl' },
        { pixels: [1, 2, 3], width: 2, height: 2 },
        { image: dataUrl(whitePng()) },
        { image: dataUrl(truncatedPng()) },
        { image: sevenUrl, colour: 'red' },
        { pixels: 'abc', width: 1, height: 1 },
        42,
        { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const { results } = res.json<{ results: (RecognitionBody | ErrorBody)[] }>();
    expect(results).toHaveLength(9);
    const codes = results.map((r) => ('error' in r ? r.error.code : 'ok'));
    expect(codes).toEqual([
      'ok',
      'invalid_image',
      'invalid_request',
      'empty_image',
      'invalid_image',
      'invalid_request',
      'invalid_request',
      'invalid_request',
      'ok',
    ]);
    results.forEach((r, i) => {
      if ('error' in r) expect(r.error.message).toMatch(new RegExp(`^items\\[${i}\\]: `));
      else expectRecognition(r);
    });
    expect((results[5] as ErrorBody).error.message).toContain('colour');
  });

  it('answers a batch of 256', async () => {
    const item = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };
    const res = await postJson(app, '/api/predict/batch', { items: new Array(256).fill(item) });
    expect(res.statusCode).toBe(200);
    const { results } = res.json<{ results: RecognitionBody[] }>();
    expect(results).toHaveLength(256);
    expect(new Set(results.map((r) => r.digit))).toEqual(new Set([7]));
  });

  it('refuses a batch of 257 with 400', async () => {
    const item = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };
    const res = await postJson(app, '/api/predict/batch', { items: new Array(257).fill(item) });
    expect(expectError(res, 400, 'invalid_request')).toContain('256');
    await expectHealthy(app);
  });

  it('answers an empty batch with no results', async () => {
    const res = await postJson(app, '/api/predict/batch', { items: [] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ results: [] });
  });

  it('refuses a malformed envelope', async () => {
    expectError(await postJson(app, '/api/predict/batch', {}), 400, 'invalid_request');
    expectError(await postJson(app, '/api/predict/batch', { items: {} }), 400, 'invalid_request');
    expectError(
      await postJson(app, '/api/predict/batch', { items: [], extra: true }),
      400,
      'invalid_request',
    );
    expectError(
      await postJson(app, '/api/predict/batch', { items: [], ensemble: 'median' }),
      400,
      'invalid_request',
    );
    await expectHealthy(app);
  });
});
