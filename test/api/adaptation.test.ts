/**
 * POST /api/predict with `user`: that user's corrections change the answer for drawings like
 * the corrected ones and leave other drawings and other users alone; deleting them stops it,
 * on every instance sharing the database; an unavailable database means unadapted answers.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { expectRecognition, postJson, readyApp } from './contract.ts';
import { dataUrl, drawDigit, flagOne, SEVEN } from './images.ts';

interface Adapted {
  digit: number;
  adaptation?: { corrections: number; neighbours: number; modelDigit: number };
}

const image = (strokes: Parameters<typeof drawDigit>[0]) => dataUrl(drawDigit(strokes).png());
/** Two drawings of one writer's flagged 1, both read as 7 by the model alone. */
const corrected = image(flagOne(60, 15, 15));
const likeIt = image(flagOne(60, 30, 15));
const seven = image(SEVEN);

let server: TestPostgres;
let a: FastifyInstance;
let b: FastifyInstance;

beforeAll(async () => {
  server = await startPostgres();
  const options = {
    rateLimit: 0,
    workers: 1,
    corrections: { databaseUrl: server.url, timeoutMs: 800 },
  };
  // Two instances sharing one database, as in a fleet.
  [a, b] = await Promise.all([readyApp(options), readyApp(options)]);
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await server?.stop();
});

async function predict(app: FastifyInstance, img: string, user?: string): Promise<Adapted> {
  const res = await postJson(app, '/api/predict', user ? { image: img, user } : { image: img });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json<Adapted & Record<string, unknown>>();
  const { adaptation, ...recognition } = body;
  expectRecognition(recognition);
  return { digit: body.digit, adaptation };
}

describe('adapting predictions to a user', () => {
  it("reads a drawing like a corrected one as the user's label, on every instance, until forgotten", async () => {
    const user = 'flag-one-writer';
    expect((await predict(a, corrected, user)).digit).toBe(7);
    expect((await predict(a, likeIt, user)).digit).toBe(7);

    const res = await postJson(a, '/api/corrections', { image: corrected, label: 1, user });
    expect(res.statusCode, res.body).toBe(201);

    const adapted = await predict(a, likeIt, user);
    expect(adapted).toEqual({
      digit: 1,
      adaptation: { corrections: 1, neighbours: 1, modelDigit: 7 },
    });
    // Reading a number adapts each of its digits the same way.
    const read = (user?: string) =>
      postJson(a, '/api/read', user ? { image: likeIt, user } : { image: likeIt }).then((r) =>
        r.json<{ text: string; digits: Adapted[] }>(),
      );
    const reading = await read(user);
    expect(reading.text).toBe('1');
    expect(reading.digits[0].adaptation).toEqual({ corrections: 1, neighbours: 1, modelDigit: 7 });
    expect((await read()).text).toBe('7');
    // The other instance reads the same database.
    expect((await predict(b, likeIt, user)).digit).toBe(1);
    // Another drawing of this user, and the same drawing of another user, are left alone.
    expect((await predict(a, seven, user)).digit).toBe(7);
    expect(await predict(a, likeIt, 'someone-else')).toEqual({
      digit: 7,
      adaptation: { corrections: 0, neighbours: 0, modelDigit: 7 },
    });
    // Without `user`, the answer has no adaptation at all.
    expect(await predict(a, likeIt)).toEqual({ digit: 7, adaptation: undefined });

    // Forgotten on one instance: used by neither afterwards.
    expect(
      (await b.inject({ method: 'DELETE', url: `/api/corrections?user=${user}` })).statusCode,
    ).toBe(204);
    expect((await predict(a, likeIt, user)).digit).toBe(7);
    expect((await predict(b, likeIt, user)).adaptation?.corrections).toBe(0);
  });

  it('refuses a bad user id on predict', async () => {
    const res = await postJson(a, '/api/predict', { image: seven, user: 'no' });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(/user.*8-64/);
  });

  it('answers unadapted, quickly, while the database is down', async () => {
    const user = 'outage-writer';
    await postJson(a, '/api/corrections', { image: corrected, label: 1, user });
    expect((await predict(a, likeIt, user)).digit).toBe(1);
    await server.pause();
    try {
      const started = Date.now();
      expect(await predict(a, likeIt, user)).toEqual({ digit: 7, adaptation: undefined });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await server.resume();
    }
    expect((await predict(a, likeIt, user)).digit).toBe(1);
  }, 60_000);
});
