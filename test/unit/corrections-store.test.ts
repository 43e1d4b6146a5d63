/**
 * The corrections store against both of its databases: the embedded PGlite in a temporary
 * folder and a real, throwaway PostgreSQL server (test/support/postgres.ts). The same
 * contract for both; faults (down, slow) against the real server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deferredStore } from '../../src/store/deferred.ts';
import { MIGRATIONS, migrate } from '../../src/store/migrations.ts';
import { openStore, type StoreConfig } from '../../src/store/open.ts';
import { openPostgres } from '../../src/store/postgres-client.ts';
import { USER_LOCK_SPACE } from '../../src/store/sql-store.ts';
import {
  CorrectionLimitError,
  INPUT_BYTES,
  StoreUnavailableError,
  type CorrectionsChange,
  type CorrectionsStore,
} from '../../src/store/store.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';

const input = (seed: number) =>
  Uint8Array.from({ length: INPUT_BYTES }, (_, i) => (i * seed) % 256);

/** Resolves once `check` holds (polled), or fails after `ms`. */
async function eventually(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Everything a watch of `store` sees, once it is live. */
async function watching(store: CorrectionsStore) {
  const changes: CorrectionsChange[] = [];
  const stop = store.watch((change) => changes.push(change));
  await eventually(() => changes.some((c) => c.kind === 'live'));
  return { changes, stop };
}

let server: TestPostgres;

/** A new, empty database on the test server; its URL. */
async function freshDatabase(prefix: string): Promise<string> {
  const db = `${prefix}_${Date.now()}`;
  const admin = new pg.Client(server.url);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${db}`);
  } finally {
    await admin.end();
  }
  return server.url.replace(/\/postgres$/, `/${db}`);
}
const dataDir = mkdtempSync(join(tmpdir(), 'digits-store-'));

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const kinds: [string, () => StoreConfig][] = [
  ['embedded (PGlite)', () => ({ dataDir, maxPerUser: 5 })],
  ['PostgreSQL', () => ({ databaseUrl: server.url, maxPerUser: 5 })],
];

describe.each(kinds)('the store on %s', (_name, config) => {
  let store: CorrectionsStore;
  beforeAll(async () => {
    store = await openStore(config());
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('adds, lists oldest first, versions and deletes one user at a time', async () => {
    const a = await store.add({ user: 'user-aaaa', label: 7, input: input(3) });
    const b = await store.add({ user: 'user-aaaa', label: 1, input: input(5) });
    await store.add({ user: 'user-bbbb', label: 2, input: input(7) });
    expect(a).toMatchObject({ user: 'user-aaaa', label: 7 });
    expect(b.id).toBeGreaterThan(a.id);
    expect(Date.parse(a.created)).toBeGreaterThan(Date.now() - 60_000);

    const listed = await store.list('user-aaaa');
    expect(listed.map((c) => c.label)).toEqual([7, 1]);
    expect(Array.from(listed[0].input)).toEqual(Array.from(input(3)));
    expect(await store.version('user-aaaa')).toEqual({ count: 2, lastId: b.id });

    expect(await store.deleteUser('user-aaaa')).toBe(2);
    expect(await store.list('user-aaaa')).toEqual([]);
    expect(await store.version('user-aaaa')).toEqual({ count: 0, lastId: 0 });
    expect((await store.list('user-bbbb')).map((c) => c.label)).toEqual([2]);
  });

  it('refuses a correction over the per-user cap, also when they arrive at once', async () => {
    const user = 'capped-user';
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.add({ user, label: i % 10, input: input(i + 1) })),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CorrectionLimitError);
    expect((await store.version(user)).count).toBe(5);
    await store.deleteUser(user);
  });

  it('refuses what the schema forbids (a label out of range, a bad user, a short input)', async () => {
    await expect(store.add({ user: 'user-cccc', label: 10, input: input(1) })).rejects.toThrow(
      StoreUnavailableError,
    );
    await expect(store.add({ user: 'short', label: 1, input: input(1) })).rejects.toThrow();
    await expect(
      store.add({ user: 'user-cccc', label: 1, input: new Uint8Array(10) }),
    ).rejects.toThrow();
    expect(await store.list('user-cccc')).toEqual([]);
  });

  it('announces every committed change to a watch, once per deletion of a user', async () => {
    const { changes, stop } = await watching(store);
    try {
      const a = await store.add({ user: 'watched-user', label: 4, input: input(9) });
      const b = await store.add({ user: 'watched-user', label: 5, input: input(8) });
      expect(await store.deleteUser('watched-user')).toBe(2);
      await eventually(() => changes.some((c) => c.kind === 'deleted'));
      expect(changes.filter((c) => c.kind !== 'live')).toEqual([
        { kind: 'added', id: a.id, user: 'watched-user' },
        { kind: 'added', id: b.id, user: 'watched-user' },
        { kind: 'deleted', user: 'watched-user' },
      ]);
    } finally {
      await stop();
    }
  });

  it('walks every correction in batches, oldest first', async () => {
    for (let i = 0; i < 5; i++)
      await store.add({ user: `walker-${i}xxx`, label: i, input: input(i + 2) });
    const labels: number[] = [];
    let batches = 0;
    for await (const rows of store.all(2)) {
      batches++;
      labels.push(...rows.map((r) => r.label));
    }
    expect(batches).toBeGreaterThanOrEqual(3);
    expect(labels.slice(-5)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps what it acknowledged across a restart, and migrates only once', async () => {
    const kept = await store.add({ user: 'restart-user', label: 4, input: input(9) });
    await store.close();
    store = await openStore(config());
    expect((await store.list('restart-user')).map((c) => c.id)).toEqual([kept.id]);
  });
});

describe('migrations', () => {
  it('apply once even when several instances start at once', async () => {
    const url = await freshDatabase('race');
    const clients = [1, 2, 3].map(() => openPostgres({ url, timeoutMs: 10_000 }));
    const applied = await Promise.all(clients.map((c) => migrate(c)));
    expect(applied.flat()).toEqual(MIGRATIONS.map((m) => m.version));
    const { rows } = await clients[0].query('SELECT version FROM schema_migrations');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(clients[0])).toEqual([]);
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe('announcements on PostgreSQL', () => {
  it('reach a watch whoever changes the table, and say when they stop and start again', async () => {
    const url = await freshDatabase('watch');
    const store = await openStore({ databaseUrl: url, timeoutMs: 1000 });
    const operator = new pg.Client(url);
    await operator.connect();
    const { changes, stop } = await watching(store);
    try {
      // An operator's SQL, not the store, changes the table.
      const { rows } = await operator.query<{ id: number }>(
        "INSERT INTO corrections (user_id, label, input) VALUES ('sql-user-1', 3, $1) RETURNING id",
        [Buffer.from(input(2))],
      );
      await operator.query("DELETE FROM corrections WHERE user_id = 'sql-user-1'");
      await operator.query('TRUNCATE corrections');
      // A payload this version does not know: forget everything rather than guess.
      await operator.query("NOTIFY corrections_changed, 'renamed sql-user-1 sql-user-2'");
      await eventually(() => changes.length >= 5);
      expect(changes.slice(1)).toEqual([
        { kind: 'added', id: Number(rows[0].id), user: 'sql-user-1' },
        { kind: 'deleted', user: 'sql-user-1' },
        { kind: 'cleared' },
        { kind: 'cleared' },
      ]);

      // The listening connection is cut: lost, then live again by itself.
      changes.length = 0;
      const { rows: cut } = await operator.query<{ done: boolean }>(
        "SELECT pg_terminate_backend(pid, 5000) AS done FROM pg_stat_activity WHERE application_name = 'digits-listen' AND datname = current_database()",
      );
      expect(cut.map((r) => r.done)).toEqual([true]);
      await eventually(() => changes.some((c) => c.kind === 'live'));
      expect(changes.map((c) => c.kind)).toEqual(['lost', 'live']);
      const added = await store.add({ user: 'after-cut', label: 1, input: input(6) });
      await eventually(() => changes.length === 3);
      expect(changes[2]).toEqual({ kind: 'added', id: added.id, user: 'after-cut' });
    } finally {
      await stop();
      await store.close();
      await operator.end();
    }
  }, 60_000);

  it('answers a write once every listening instance has applied it', async () => {
    const [writer, other] = await Promise.all([
      openStore({ databaseUrl: server.url }),
      openStore({ databaseUrl: server.url }),
    ]);
    const seen: CorrectionsChange[] = [];
    const slow = (change: CorrectionsChange) => {
      // An instance busy for a moment: the writer must wait for it.
      const until = Date.now() + 30;
      while (Date.now() < until);
      seen.push(change);
    };
    const watches = await Promise.all([watching(writer), watching(other)]);
    const stopSlow = other.watch(slow);
    try {
      const added = await writer.add({ user: 'acked-user', label: 2, input: input(1) });
      // No waiting here: the other instance had it before add() resolved.
      expect(seen).toContainEqual({ kind: 'added', id: added.id, user: 'acked-user' });
      expect(await writer.deleteUser('acked-user')).toBe(1);
      expect(seen).toContainEqual({ kind: 'deleted', user: 'acked-user' });
    } finally {
      await stopSlow();
      await Promise.all(watches.map((w) => w.stop()));
      await Promise.all([writer.close(), other.close()]);
    }
  }, 60_000);
});

describe('a PostgreSQL that is down or slow', () => {
  it('fails with StoreUnavailableError within the timeout, and recovers when it is back', async () => {
    const store = await openStore({ databaseUrl: server.url, timeoutMs: 500 });
    try {
      // Slow: another session holds the table, so the insert waits past the timeout.
      const blocker = new pg.Client(server.url);
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE corrections IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      await expect(store.list('slow-user')).rejects.toThrow(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(3000);
      await blocker.query('ROLLBACK');
      await blocker.end();
      expect(await store.list('slow-user')).toEqual([]);

      // Down.
      await server.pause();
      await expect(store.add({ user: 'down-user', label: 3, input: input(4) })).rejects.toThrow(
        StoreUnavailableError,
      );
      await server.resume();
      const added = await store.add({ user: 'down-user', label: 3, input: input(4) });
      expect((await store.list('down-user')).map((c) => c.id)).toEqual([added.id]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('never commits a correction after answering that it was not stored', async () => {
    // Each statement waits less than the timeout, all of them together more: the user's lock
    // is held for 350 ms, then the table against inserts until 850 ms.
    const store = await openStore({ databaseUrl: server.url, timeoutMs: 600 });
    const user = 'late-commit-user';
    const [lock, table] = [new pg.Client(server.url), new pg.Client(server.url)];
    try {
      await Promise.all([lock.connect(), table.connect()]);
      await table.query('BEGIN');
      await table.query('LOCK TABLE corrections IN SHARE MODE');
      await lock.query('BEGIN');
      await lock.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [USER_LOCK_SPACE, user]);
      const released = Promise.all([
        new Promise((done) => setTimeout(done, 350)).then(() => lock.query('COMMIT')),
        new Promise((done) => setTimeout(done, 850)).then(() => table.query('COMMIT')),
      ]);
      await expect(store.add({ user, label: 3, input: input(5) })).rejects.toThrow(
        StoreUnavailableError,
      );
      await released;
      // Time for the insert to have finished, had it gone on.
      await new Promise((done) => setTimeout(done, 300));
      expect(await store.list(user)).toEqual([]);
    } finally {
      await Promise.all([lock.end(), table.end(), store.close()]);
    }
  }, 60_000);

  it('never deletes after answering that nothing was deleted', async () => {
    // Four additions wait on a table lock and hold the pool's four connections, so the
    // deletion gets one only after its deadline, once the lock is gone at 1,000 ms.
    const store = await openStore({ databaseUrl: server.url, timeoutMs: 600 });
    const user = 'late-delete-user';
    const table = new pg.Client(server.url);
    try {
      await store.add({ user, label: 2, input: input(6) });
      await table.connect();
      await table.query('BEGIN');
      await table.query('LOCK TABLE corrections IN SHARE MODE');
      const released = new Promise((done) => setTimeout(done, 1000)).then(() =>
        table.query('COMMIT'),
      );
      const waiting = [1, 2, 3, 4].map((k) =>
        store.add({ user: `pool-filler-${k}`, label: 1, input: input(k) }).catch(() => null),
      );
      // Until the additions hold every connection, blocked on the lock.
      await expect
        .poll(async () => {
          const { rows } = await table.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'corrections'::regclass",
          );
          return rows[0].n;
        })
        .toBe(4);
      await expect(store.deleteUser(user)).rejects.toThrow(StoreUnavailableError);
      await Promise.all([released, ...waiting]);
      await new Promise((done) => setTimeout(done, 300));
      expect(await store.list(user)).toHaveLength(1);
    } finally {
      await Promise.all([table.end(), store.close()]);
    }
  }, 60_000);

  it('starts while the server is down and migrates once it is up', async () => {
    const url = await freshDatabase('late');
    await server.pause();
    const errors: Error[] = [];
    const store = await openStore({
      databaseUrl: url,
      timeoutMs: 500,
      onError: (err) => errors.push(err),
    });
    try {
      expect(errors.length).toBeGreaterThan(0);
      await expect(store.list('late-user')).rejects.toThrow(StoreUnavailableError);
      await server.resume();
      await store.add({ user: 'late-user', label: 8, input: input(2) });
      expect(await store.list('late-user')).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('a store still opening', () => {
  it('waits for the open, and reports a failed open as unavailable on every use', async () => {
    // The embedded database of the tests above, opened again.
    let opened = 0;
    const store = deferredStore('embedded', () => (opened++, openStore({ dataDir })));
    expect(opened).toBe(0); // nothing is opened before it is used
    await store.add({ user: 'deferred-user', label: 6, input: input(3) });
    expect((await store.list('deferred-user')).map((c) => c.label)).toEqual([6]);
    expect(opened).toBe(1);
    await store.close();

    let attempts = 0;
    const broken = deferredStore('embedded', () => {
      attempts++;
      return Promise.reject(new Error('DATA_DIR is read-only'));
    });
    await expect(broken.list('deferred-user')).rejects.toThrow(
      /could not be opened: DATA_DIR is read-only/,
    );
    await expect(broken.list('deferred-user')).rejects.toThrow(StoreUnavailableError);
    expect(attempts).toBe(2); // a failed open is tried again on the next use
    await broken.close();
  }, 60_000);
});
