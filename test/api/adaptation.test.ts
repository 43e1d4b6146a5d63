/**
 * POST /api/predict with `user`: that user's corrections change the answer for drawings like
 * the corrected ones and leave other drawings and other users alone; deleting them stops it,
 * on every instance sharing the database; an unavailable database means unadapted answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { expectRecognition, postJson, readyApp } from './contract.ts';
import { ANOTHER_ONE, CORRECTED_ONE, dataUrl, drawDigit, flagOne, SEVEN } from './images.ts';

interface Adapted {
  digit: number;
  adaptation?: { corrections: number; neighbours: number; modelDigit: number };
}

const image = (strokes: Parameters<typeof drawDigit>[0]) => dataUrl(drawDigit(strokes).png());
/** Two drawings of one writer's flagged 1, both read as 7 by the model alone. */
const corrected = image(CORRECTED_ONE);
const likeIt = image(ANOTHER_ONE);
const seven = image(SEVEN);

let server: TestPostgres;
let a: FastifyInstance;
let b: FastifyInstance;
/** An operator's own connection: changes the table behind the apps' backs. */
let operator: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  const options = {
    rateLimit: 0,
    workers: 1,
    corrections: { databaseUrl: server.url, timeoutMs: 800 },
  };
  // Two instances sharing one database, as in a fleet.
  [a, b] = await Promise.all([readyApp(options), readyApp(options)]);
  operator = new pg.Client(server.url);
  // The last test stops the server: this connection ends then, and is not used again.
  operator.on('error', () => {});
  await operator.connect();
}, 120_000);

afterAll(async () => {
  await operator?.end();
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

/** How an app found users' corrections so far, and whether it trusts its cache (/metrics). */
async function lookups(app: FastifyInstance) {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const count = (how: string) =>
    Number(new RegExp(`digits_adaptation_lookups_total{how="${how}"} (\\d+)`).exec(text)?.[1]);
  return {
    cached: count('cached'),
    checked: count('checked'),
    loaded: count('loaded'),
    trusted: /digits_adaptation_cache_trusted 1/.test(text),
  };
}

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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

  it('judges an adapted answer again: the user\'s 1 is not "A 7 or a 1?"', async () => {
    const user = 'unsure-one-writer';
    const doubtful = image(flagOne(70, 30, 15));
    const verdict = async (user?: string) => {
      const res = await postJson(
        a,
        '/api/predict',
        user ? { image: doubtful, user } : { image: doubtful },
      );
      return res.json<{
        digit: number;
        unsure: boolean;
        reason: string | null;
        alternatives?: { digit: number }[];
      }>();
    };
    const alone = await verdict();
    expect(alone).toMatchObject({ digit: 7, unsure: true, reason: 'ambiguous' });
    expect(alone.alternatives?.map((x) => x.digit)).toContain(1);

    const res = await postJson(a, '/api/corrections', { image: doubtful, label: 1, user });
    expect(res.statusCode, res.body).toBe(201);
    const adapted = await verdict(user);
    expect(adapted).toMatchObject({ digit: 1, unsure: false, reason: null });
    expect(adapted.alternatives).toBeUndefined();
    // A number of that one digit: the reading is no longer unsure either.
    const read = async (user?: string) =>
      (
        await postJson(a, '/api/read', user ? { image: doubtful, user } : { image: doubtful })
      ).json<{
        text: string;
        unsure: boolean;
      }>();
    expect(await read()).toMatchObject({ text: '7', unsure: true });
    expect(await read(user)).toMatchObject({ text: '1', unsure: false });
  });

  it("uses a cached user without asking the database, and heeds other writers' changes", async () => {
    const user = 'cached-writer';
    await eventually(async () => (await lookups(a)).trusted);
    expect(
      (await postJson(b, '/api/corrections', { image: corrected, label: 1, user })).statusCode,
    ).toBe(201);
    expect((await predict(a, likeIt, user)).digit).toBe(1);
    const before = await lookups(a);
    for (let i = 0; i < 5; i++) expect((await predict(a, likeIt, user)).digit).toBe(1);
    expect(await lookups(a)).toEqual({ ...before, cached: before.cached + 5 });

    // Another instance's correction is announced: read again (once), then cached.
    expect(
      (await postJson(b, '/api/corrections', { image: seven, label: 9, user })).statusCode,
    ).toBe(201);
    expect((await predict(a, likeIt, user)).adaptation?.corrections).toBe(2);
    expect((await predict(a, likeIt, user)).adaptation?.corrections).toBe(2);
    const after = await lookups(a);
    expect(after.loaded).toBe(before.loaded + 1);
    expect(after.checked).toBe(before.checked);

    // An operator deletes the rows with SQL: no instance uses them once it is announced.
    await operator.query('DELETE FROM corrections WHERE user_id = $1', [user]);
    for (const app of [a, b]) {
      await eventually(async () => (await predict(app, likeIt, user)).digit === 7, 2000);
    }
  });

  it('answers right when the announcements stop: asks the database until they are back', async () => {
    const user = 'unheard-writer';
    const post = async () =>
      expect(
        (await postJson(a, '/api/corrections', { image: corrected, label: 1, user })).statusCode,
      ).toBe(201);
    await post();
    expect((await predict(a, likeIt, user)).digit).toBe(1);
    // Every listening connection is cut; they listen again by themselves after 0.1 s or more.
    await operator.query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'digits-listen'",
    );
    // Meanwhile nothing cached is used as it is: the database is asked.
    const before = await lookups(a);
    expect((await predict(a, likeIt, user)).digit).toBe(1);
    const during = await lookups(a);
    expect(during.cached).toBe(before.cached);
    expect(during.checked + during.loaded).toBe(before.checked + before.loaded + 1);
    // Deleted before they listen again: never announced. What was read while not listening
    // is not trusted once they do.
    await operator.query('DELETE FROM corrections WHERE user_id = $1', [user]);
    await eventually(async () => (await lookups(a)).trusted && (await lookups(b)).trusted);
    expect((await predict(a, likeIt, user)).digit).toBe(7);
    expect((await predict(b, likeIt, user)).digit).toBe(7);
    // And from then on cached again.
    await post();
    expect((await predict(a, likeIt, user)).digit).toBe(1);
    const cached = (await lookups(a)).cached;
    expect((await predict(a, likeIt, user)).digit).toBe(1);
    expect((await lookups(a)).cached).toBe(cached + 1);
  }, 60_000);

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

describe('whose work adapting is', () => {
  /**
   * An app whose clients may each have `images` recognized a minute, with one correction of
   * `user` stored by another client; `read(client)` reads a drawing like it for that user.
   */
  async function budgeted(
    images: number,
    user: string,
    run: (read: (client: string) => Promise<LightMyRequestResponse>) => Promise<void>,
  ) {
    const dataDir = mkdtempSync(join(tmpdir(), 'digits-adapt-budget-'));
    const app = await readyApp({
      rateLimit: 0,
      workers: 1,
      workRate: { images, pixels: 0 },
      corrections: { dataDir },
    });
    try {
      const stored = await app.inject({
        method: 'POST',
        url: '/api/corrections',
        payload: { image: corrected, label: 1, user },
        remoteAddress: '10.9.9.9',
      });
      expect(stored.statusCode, stored.body).toBe(201);
      await run((client) =>
        app.inject({
          method: 'POST',
          url: '/api/read',
          payload: { image: likeIt, user },
          remoteAddress: client,
        }),
      );
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  it("charges the requesting client, not one shared client: nobody's budget runs out for the others", async () => {
    // Six images a minute each: a read and its adaptation fit. Twelve clients read with the
    // user's corrections: 24 images of work in all.
    await budgeted(6, 'budget-user-1', async (read) => {
      for (let i = 2; i < 14; i++) {
        const res = await read(`10.0.0.${i}`);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json<{ digits: Adapted[] }>().digits[0].adaptation?.corrections).toBe(1);
      }
    });
  }, 60_000);

  it('answers a read unadapted, not 429, when only the adaptation is over the budget', async () => {
    // Two images a minute: the read and the loading of the user's one correction fit, the
    // adaptation of the read's digit does not.
    await budgeted(2, 'budget-user-2', async (read) => {
      const res = await read('10.0.1.2');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<{ digits: Adapted[] }>().digits[0].adaptation).toBeUndefined();
    });
  }, 60_000);
});
