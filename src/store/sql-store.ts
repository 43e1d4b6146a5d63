/**
 * The corrections store over a SQL client: the same statements on PGlite and PostgreSQL.
 * Every operation gives up after `timeoutMs` with StoreUnavailableError, so a database that
 * is down or slow turns into a clear 503 (and an unadapted prediction), never a hang.
 * A correction is acknowledged only once its transaction has committed.
 */
import {
  acknowledged,
  CHANGES_CHANNEL,
  heard,
  LISTENER_NAME,
  parseChange,
  payloadOf,
} from './changes.ts';
import { withDeadline, type Deadline } from './deadline.ts';
import { migrate } from './migrations.ts';
import type { Listening, SqlClient, SqlQueryable } from './sql-client.ts';
import {
  CorrectionLimitError,
  MAX_CORRECTIONS_PER_USER,
  StoreUnavailableError,
  type Correction,
  type CorrectionsChange,
  type CorrectionsStore,
  type NewCorrection,
  type UserVersion,
} from './store.ts';

export interface SqlStoreOptions {
  readonly kind: CorrectionsStore['kind'];
  readonly timeoutMs: number;
  /** The longest the migrations may take (an embedded database's first start: about 2 s). */
  readonly migrateTimeoutMs?: number;
  readonly maxPerUser?: number;
}

interface Row {
  id: number;
  user_id: string;
  label: number;
  input: Uint8Array;
  created: Date | string;
}

const COLUMNS = 'id, user_id, label, input, created';

function toCorrection(row: Row): Correction {
  return {
    id: Number(row.id),
    user: row.user_id,
    label: Number(row.label),
    input: new Uint8Array(row.input),
    created: new Date(row.created).toISOString(),
  };
}

/** The longest a write waits for the listening instances' acknowledgements. */
export const ACKNOWLEDGE_WAIT_MS = 1000;
/** The longest a write waits for this store to listen (just opened, or reconnecting). */
const LIVE_WAIT_MS = 500;

/** Any fixed number: with the user's hash, the lock that serializes one user's additions. */
export const USER_LOCK_SPACE = 7_310_013;

export class SqlStore implements CorrectionsStore {
  readonly kind: CorrectionsStore['kind'];
  readonly exclusive: boolean;
  private readonly timeoutMs: number;
  private readonly migrateTimeoutMs: number;
  private readonly maxPerUser: number;
  /** The migrations once applied; cleared after a failure so that the next use tries again. */
  private migrated: Promise<void> | null = null;
  /** One listening session for the watches and the acknowledgements, once needed. */
  private listening: Listening | null = null;
  private live = false;
  private closed = false;
  private readonly watchers = new Set<(change: CorrectionsChange) => void>();
  /** Writes waiting for acknowledgements: each payload acknowledged and by whom (null: live or lost). */
  private readonly ackWaiters = new Set<(payload: string | null, sender: number) => void>();

  constructor(
    private readonly client: SqlClient,
    options: SqlStoreOptions,
  ) {
    this.kind = options.kind;
    this.exclusive = options.kind === 'embedded';
    this.timeoutMs = options.timeoutMs;
    this.migrateTimeoutMs = options.migrateTimeoutMs ?? options.timeoutMs;
    this.maxPerUser = options.maxPerUser ?? MAX_CORRECTIONS_PER_USER;
  }

  /**
   * Applies the migrations not yet applied. Every operation waits for it; when it fails (a
   * database that is down at start), the next operation tries again, so a server started
   * before its database recovers without a restart.
   */
  ready(): Promise<void> {
    return this.migrate();
  }

  migrate(): Promise<void> {
    this.migrated ??= this.guard(
      'prepare the database',
      async () => {
        await migrate(this.client);
      },
      this.migrateTimeoutMs,
    ).catch((err: unknown) => {
      this.migrated = null;
      throw err;
    });
    return this.migrated;
  }

  async add(correction: NewCorrection): Promise<Correction> {
    await this.migrate();
    return this.acknowledgedWrite(
      () => this.insert(correction),
      (stored) => payloadOf({ kind: 'added', id: stored.id, user: stored.user }),
    );
  }

  private insert(correction: NewCorrection): Promise<Correction> {
    return this.write('store the correction', async (tx) => {
      // Two additions for one user at once must not both pass the cap check.
      await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        USER_LOCK_SPACE,
        correction.user,
      ]);
      const { rows: counted } = await tx.query<{ n: number }>(
        'SELECT count(*)::integer AS n FROM corrections WHERE user_id = $1',
        [correction.user],
      );
      if (counted[0].n >= this.maxPerUser) throw new CorrectionLimitError(this.maxPerUser);
      const { rows } = await tx.query<Row>(
        `INSERT INTO corrections (user_id, label, input) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
        [correction.user, correction.label, Buffer.from(correction.input)],
      );
      return toCorrection(rows[0]);
    });
  }

  async list(user: string): Promise<Correction[]> {
    await this.migrate();
    return this.guard('read the corrections', async () => {
      const { rows } = await this.client.query<Row>(
        `SELECT ${COLUMNS} FROM corrections WHERE user_id = $1 ORDER BY id`,
        [user],
      );
      return rows.map(toCorrection);
    });
  }

  async version(user: string): Promise<UserVersion> {
    await this.migrate();
    return this.guard('read the corrections', async () => {
      const { rows } = await this.client.query<{ count: number; last: number | null }>(
        'SELECT count(*)::integer AS count, max(id) AS last FROM corrections WHERE user_id = $1',
        [user],
      );
      return { count: Number(rows[0].count), lastId: Number(rows[0].last ?? 0) };
    });
  }

  async deleteUser(user: string): Promise<number> {
    await this.migrate();
    return this.acknowledgedWrite(
      () =>
        this.write('delete the corrections', async (tx) => {
          const { affectedRows } = await tx.query('DELETE FROM corrections WHERE user_id = $1', [
            user,
          ]);
          return affectedRows;
        }),
      // Deleting nothing announces nothing.
      (deleted) => (deleted > 0 ? payloadOf({ kind: 'deleted', user }) : null),
    );
  }

  async *all(batch = 500): AsyncIterable<Correction[]> {
    await this.migrate();
    let after = 0;
    for (;;) {
      const rows = await this.guard('read the corrections', async () => {
        const result = await this.client.query<Row>(
          `SELECT ${COLUMNS} FROM corrections WHERE id > $1 ORDER BY id LIMIT $2`,
          [after, batch],
        );
        return result.rows.map(toCorrection);
      });
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1].id;
    }
  }

  watch(onChange: (change: CorrectionsChange) => void): () => Promise<void> {
    this.listen();
    this.watchers.add(onChange);
    if (this.live) queueMicrotask(() => this.watchers.has(onChange) && onChange({ kind: 'live' }));
    return async () => void this.watchers.delete(onChange);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    await this.listening?.stop();
    this.listening = null;
    await this.client.close();
  }

  /**
   * The changes announced on the channel go to the watchers, which apply them at once
   * (synchronously); then, on PostgreSQL, this session acknowledges each to its writer.
   */
  private listen(): void {
    if (this.listening || this.closed) return;
    this.listening = this.client.listen(CHANGES_CHANNEL, {
      notification: (payload, sender) => {
        const of = acknowledged(payload);
        if (of !== null) {
          for (const waiter of [...this.ackWaiters]) waiter(of, sender);
          return;
        }
        const change = parseChange(payload);
        for (const watcher of [...this.watchers]) watcher(change);
        if (!this.exclusive && (change.kind === 'added' || change.kind === 'deleted')) {
          void this.listening?.send(heard(payload));
        }
      },
      live: (isLive) => {
        this.live = isLive;
        for (const watcher of [...this.watchers]) watcher({ kind: isLive ? 'live' : 'lost' });
        for (const waiter of [...this.ackWaiters]) waiter(null, 0);
      },
    });
  }

  /**
   * Runs a write (on PostgreSQL) and resolves once every instance listening when it
   * committed has acknowledged its announcement, that is, has applied it to what it caches
   * (at most ACKNOWLEDGE_WAIT_MS): a client told "stored" or "deleted" then finds every
   * instance of the fleet up to date, whichever it asks next. PostgreSQL sends the
   * announcement on commit; a listener is an instance's session named LISTENER_NAME.
   */
  private async acknowledgedWrite<T>(
    write: () => Promise<T>,
    payload: (result: T) => string | null,
  ): Promise<T> {
    if (this.exclusive) return write();
    this.listen();
    const acks = new Map<string, Set<number>>();
    let wake = () => {};
    const waiter = (of: string | null, sender: number) => {
      if (of !== null) acks.set(of, (acks.get(of) ?? new Set()).add(sender));
      wake();
    };
    this.ackWaiters.add(waiter);
    try {
      // Just opened (or reconnecting): a moment to listen, so that the acks are heard.
      if (!this.live)
        await this.until(
          () => this.live,
          LIVE_WAIT_MS,
          (w) => (wake = w),
        );
      const result = await write();
      const expected = payload(result);
      if (expected === null || !this.live) return result;
      const listeners = await this.listenerCount();
      await this.until(
        () => !this.live || (acks.get(expected)?.size ?? 0) >= listeners,
        ACKNOWLEDGE_WAIT_MS,
        (w) => (wake = w),
      );
      return result;
    } finally {
      this.ackWaiters.delete(waiter);
    }
  }

  /** Resolves once `done()` holds (checked whenever `setWake`'s function is called) or after `ms`. */
  private until(
    done: () => boolean,
    ms: number,
    setWake: (wake: () => void) => void,
  ): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      setWake(() => {
        if (!done()) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sessions listening on the channel now (this store's included); 0 if unknown. */
  private async listenerCount(): Promise<number> {
    try {
      const { rows } = await withDeadline(
        () =>
          this.client.query<{ n: number }>(
            'SELECT count(*)::integer AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
            [LISTENER_NAME],
          ),
        this.timeoutMs,
        'count the listeners',
      );
      return Number(rows[0].n);
    } catch {
      return 0;
    }
  }

  /**
   * `work` in one transaction, under the deadline (see guard), committed only while its caller
   * still waits: a caller told "nothing was changed" must find nothing changed.
   */
  private write<T>(what: string, work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.guard(what, ({ mayCommit }) =>
      this.client.transaction(async (tx) => {
        const result = await work(tx);
        if (!mayCommit()) throw new Error('rolled back: its caller stopped waiting');
        return result;
      }),
    );
  }

  /** Runs `work`; a database error or a wait beyond timeoutMs becomes StoreUnavailableError. */
  private async guard<T>(
    what: string,
    work: (deadline: Deadline) => Promise<T>,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    try {
      return await withDeadline(work, timeoutMs, what);
    } catch (err) {
      if (err instanceof CorrectionLimitError || err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(
        `could not ${what}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}
