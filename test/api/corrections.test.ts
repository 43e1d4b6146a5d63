/**
 * /api/corrections through inject, against the embedded store and a real PostgreSQL: the
 * contract (design.md, "Corrections"), every fault, restarts and deletion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreConfig } from '../../src/store/open.ts';
import { openStore } from '../../src/store/open.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { expectError, expectHealthy, postJson, readyApp } from './contract.ts';
import { dataUrl, drawDigit, FOUR, grayPixels, SEVEN, whitePng } from './images.ts';

const TOKEN = 'secret-admin-token';
const seven = dataUrl(drawDigit(SEVEN).png());
const four = drawDigit(FOUR);

let server: TestPostgres;
const dataDir = mkdtempSync(join(tmpdir(), 'digits-corrections-'));

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const stores: [string, () => StoreConfig][] = [
  ['the embedded store', () => ({ dataDir, maxPerUser: 3 })],
  ['PostgreSQL', () => ({ databaseUrl: server.url, maxPerUser: 3, timeoutMs: 1000 })],
];

const appWith = (store: StoreConfig | false, adminToken: string | null = TOKEN) =>
  readyApp({ rateLimit: 0, workers: 1, corrections: store, adminToken: adminToken ?? undefined });

const list = (app: FastifyInstance, user: string) =>
  app.inject({ method: 'GET', url: `/api/corrections?user=${user}` });
const forget = (app: FastifyInstance, user: string) =>
  app.inject({ method: 'DELETE', url: `/api/corrections?user=${user}` });
const exportCsv = (app: FastifyInstance, token?: string) =>
  app.inject({
    method: 'GET',
    url: '/api/corrections/export',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe.each(stores)('corrections on %s', (_name, config) => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith(config());
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  it('stores a correction (image or pixels), lists it, exports it and forgets it', async () => {
    const user = 'contract-user-1';
    const a = await postJson(app, '/api/corrections', { image: seven, label: 1, user });
    expect(a.statusCode, a.body).toBe(201);
    const created = a.json<{ id: number; user: string; label: number }>();
    expect(Object.keys(created).sort()).toEqual(['id', 'label', 'user']);
    expect(created).toMatchObject({ user, label: 1 });
    const b = await postJson(app, '/api/corrections', {
      pixels: grayPixels(four),
      width: four.width,
      height: four.height,
      label: 9,
      user,
    });
    expect(b.statusCode, b.body).toBe(201);

    const listed = await list(app, user);
    expect(listed.statusCode, listed.body).toBe(200);
    const { items } = listed.json<{
      items: { id: number; label: number; created: string; input: number[] }[];
    }>();
    expect(items.map((i) => [i.id, i.label])).toEqual([
      [created.id, 1],
      [b.json<{ id: number }>().id, 9],
    ]);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['created', 'id', 'input', 'label']);
      expect(item.input).toHaveLength(784);
      expect(item.input.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(item.input.filter((v) => v > 0.5).length).toBeGreaterThan(30);
      expect(Number.isNaN(Date.parse(item.created))).toBe(false);
    }

    const csv = await exportCsv(app, TOKEN);
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0].split(',')).toHaveLength(785);
    expect(lines[0].startsWith('label,pixel0,pixel1,')).toBe(true);
    expect(lines[0].endsWith(',pixel783')).toBe(true);
    const rows = lines.slice(1).map((line) => line.split(',').map(Number));
    const mine = rows.slice(-2);
    expect(mine.map((r) => r[0])).toEqual([1, 9]);
    for (const row of mine) {
      expect(row).toHaveLength(785);
      expect(row.slice(1).every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
      expect(Math.max(...row.slice(1))).toBeGreaterThan(200);
    }
    // The exported pixels are the listed input at 8 bits.
    expect(mine[0].slice(1)).toEqual(items[0].input.map((v) => Math.round(v * 255)));

    const deleted = await forget(app, user);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(deleted.body).toBe('');
    await expect(list(app, user).then((r) => r.json())).resolves.toEqual({ items: [] });
    expect((await forget(app, user)).statusCode).toBe(204);
  });

  it('keeps users apart', async () => {
    await postJson(app, '/api/corrections', { image: seven, label: 7, user: 'apart-user-a' });
    await postJson(app, '/api/corrections', { image: seven, label: 2, user: 'apart-user-b' });
    await forget(app, 'apart-user-a');
    expect((await list(app, 'apart-user-b')).json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await list(app, 'apart-user-a')).json<{ items: unknown[] }>().items).toHaveLength(0);
  });

  it('refuses a bad label, a bad user id and a bad drawing with 400/422, storing nothing', async () => {
    const user = 'refused-user';
    const bad = [
      [{ image: seven, label: 10, user }, /label.*0 to 9/],
      [{ image: seven, label: -1, user }, /label.*0 to 9/],
      [{ image: seven, label: '7', user }, /label.*0 to 9/],
      [{ image: seven, label: 2.5, user }, /label.*0 to 9/],
      [{ image: seven, user }, /missing `label`/],
      [{ image: seven, label: 7 }, /missing `user`/],
      [{ image: seven, label: 7, user: 'short' }, /user.*8-64/],
      [{ image: seven, label: 7, user: 'has spaces in it' }, /user.*8-64/],
      [{ image: seven, label: 7, user: 'x'.repeat(65) }, /user.*8-64/],
      [{ label: 7, user }, /either `image`/],
      [{ image: seven, label: 7, user, ensemble: 'vote' }, /unknown field `ensemble`/],
    ] as const;
    for (const [body, message] of bad) {
      const res = await postJson(app, '/api/corrections', body);
      expect(expectError(res, 400, 'invalid_request'), JSON.stringify(body).slice(0, 80)).toMatch(
        message,
      );
    }
    expectError(
      await postJson(app, '/api/corrections', { image: dataUrl(whitePng()), label: 3, user }),
      422,
      'empty_image',
    );
    for (const url of [
      '/api/corrections?user=bad',
      '/api/corrections',
      '/api/corrections?user=a%20b%20c%20d%20e',
    ]) {
      expect(expectError(await app.inject({ method: 'GET', url }), 400, 'invalid_request')).toMatch(
        /user/,
      );
      expectError(await app.inject({ method: 'DELETE', url }), 400, 'invalid_request');
    }
    expect((await list(app, user)).json()).toEqual({ items: [] });
  });

  it('refuses a body over 1 MB with 413', async () => {
    const res = await postJson(app, '/api/corrections', {
      image: `data:image/png;base64,${'A'.repeat(1100 * 1024)}`,
      label: 1,
      user: 'big-body-user',
    });
    expect(expectError(res, 413, 'payload_too_large')).toMatch(/1 MB/);
    await expectHealthy(app);
  });

  it('refuses a correction over the per-user cap with 409 and keeps the earlier ones', async () => {
    const user = 'capped-user-1';
    for (let i = 0; i < 3; i++) {
      expect(
        (await postJson(app, '/api/corrections', { image: seven, label: i, user })).statusCode,
      ).toBe(201);
    }
    const over = await postJson(app, '/api/corrections', { image: seven, label: 5, user });
    expect(expectError(over, 409, 'too_many_corrections')).toMatch(/DELETE/);
    expect(
      (await list(app, user)).json<{ items: { label: number }[] }>().items.map((i) => i.label),
    ).toEqual([0, 1, 2]);
    await forget(app, user);
    expect(
      (await postJson(app, '/api/corrections', { image: seven, label: 5, user })).statusCode,
    ).toBe(201);
  });

  it('exports only with the admin token', async () => {
    expectError(await exportCsv(app), 401, 'unauthorized');
    const wrong = await exportCsv(app, 'not-the-token');
    expectError(wrong, 401, 'unauthorized');
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
    // The scheme is case-insensitive.
    const lower = await app.inject({
      method: 'GET',
      url: '/api/corrections/export',
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(lower.statusCode).toBe(200);
    // The OpenAPI description says what it really sends.
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, { get: { responses: Record<string, { content?: object }> } }>;
    }>();
    expect(
      Object.keys(doc.paths['/api/corrections/export'].get.responses['200'].content ?? {}),
    ).toEqual(['text/csv']);
  });
});

describe('a server configured without a store or a token', () => {
  it('answers 503 to corrections, 404 to the export, and still predicts', async () => {
    const app = await appWith(false as const, null);
    try {
      const res = await postJson(app, '/api/corrections', {
        image: seven,
        label: 1,
        user: 'no-store-user',
      });
      expect(expectError(res, 503, 'corrections_unavailable')).toMatch(/no corrections/);
      expectError(await exportCsv(app, TOKEN), 404, 'not_found');
      await expectHealthy(app);
    } finally {
      await app.close();
    }
  });
});

describe('restarts and deletion', () => {
  it('keeps acknowledged corrections across a restart of the embedded store, and deletes for good', async () => {
    // The folder the embedded describe above used: this is a restart of that database.
    let app = await appWith({ dataDir });
    const stored = await postJson(app, '/api/corrections', {
      image: seven,
      label: 1,
      user: 'restart-user',
    });
    expect(stored.statusCode).toBe(201);
    await app.close();
    app = await appWith({ dataDir });
    try {
      const items = (await list(app, 'restart-user')).json<{ items: { id: number }[] }>().items;
      expect(items.map((i) => i.id)).toEqual([stored.json<{ id: number }>().id]);
      expect((await forget(app, 'restart-user')).statusCode).toBe(204);
    } finally {
      await app.close();
    }
    // Read the database itself: no row of that user is left.
    const store = await openStore({ dataDir });
    expect(await store.list('restart-user')).toEqual([]);
    await store.close();
  });
});

describe('a PostgreSQL that goes down', () => {
  it('answers 503 for corrections, keeps predicting, loses nothing acknowledged, recovers, and deletes rows for good', async () => {
    const app = await appWith({ databaseUrl: server.url, timeoutMs: 800 });
    try {
      const user = 'outage-user-1';
      const before = await postJson(app, '/api/corrections', { image: seven, label: 1, user });
      expect(before.statusCode).toBe(201);
      await server.pause();
      try {
        const post = await postJson(app, '/api/corrections', { image: seven, label: 2, user });
        expect(expectError(post, 503, 'corrections_unavailable')).toMatch(
          /nothing was changed.*unavailable/,
        );
        // A retry can cure it, so the answer says when to try again.
        expect(post.headers['retry-after']).toBe('5');
        const read = await list(app, user);
        expect(expectError(read, 503, 'corrections_unavailable')).not.toMatch(/changed/);
        expect(read.headers['retry-after']).toBe('5');
        expectError(await forget(app, user), 503, 'corrections_unavailable');
        expectError(await exportCsv(app, TOKEN), 503, 'corrections_unavailable');
        await expectHealthy(app);
      } finally {
        await server.resume();
      }
      const after = await postJson(app, '/api/corrections', { image: seven, label: 3, user });
      expect(after.statusCode, after.body).toBe(201);
      const labels = (await list(app, user))
        .json<{ items: { label: number }[] }>()
        .items.map((i) => i.label);
      expect(labels).toEqual([1, 3]);

      // Deleting removes every row of the user from the table itself.
      expect((await forget(app, user)).statusCode).toBe(204);
      const client = new pg.Client(server.url);
      await client.connect();
      const { rows } = await client.query(
        'SELECT count(*)::int AS n FROM corrections WHERE user_id = $1',
        [user],
      );
      await client.end();
      expect(rows[0].n).toBe(0);
    } finally {
      await app.close();
    }
  }, 60_000);
});
