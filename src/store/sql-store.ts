/**
 * The corrections store over a SQL client: the same statements on PGlite and PostgreSQL.
 * Every operation gives up after `timeoutMs` with StoreUnavailableError, so a database that
 * is down or slow turns into a clear 503 (and an unadapted prediction), never a hang.
 * A correction is acknowledged only once its transaction has committed.
 */
import { withDeadline } from './deadline.ts';
import { migrate } from './migrations.ts';
import type { SqlClient } from './sql-client.ts';
import {
  CorrectionLimitError,
  MAX_CORRECTIONS_PER_USER,
  StoreUnavailableError,
  type Correction,
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

/** Any fixed number: with the user's hash, the lock that serializes one user's additions. */
const USER_LOCK_SPACE = 7_310_013;

export class SqlStore implements CorrectionsStore {
  readonly kind: CorrectionsStore['kind'];
  readonly exclusive: boolean;
  private readonly timeoutMs: number;
  private readonly migrateTimeoutMs: number;
  private readonly maxPerUser: number;
  /** The migrations once applied; cleared after a failure so that the next use tries again. */
  private migrated: Promise<void> | null = null;

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
    return this.guard('store the correction', () =>
      this.client.transaction(async (tx) => {
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
      }),
    );
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
    return this.guard('delete the corrections', async () => {
      const { affectedRows } = await this.client.query(
        'DELETE FROM corrections WHERE user_id = $1',
        [user],
      );
      return affectedRows;
    });
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

  close(): Promise<void> {
    return this.client.close();
  }

  /** Runs `work`; a database error or a wait beyond timeoutMs becomes StoreUnavailableError. */
  private async guard<T>(
    what: string,
    work: () => Promise<T>,
    timeoutMs = this.timeoutMs,
  ): Promise<T> {
    try {
      return await withDeadline(work(), timeoutMs, what);
    } catch (err) {
      if (err instanceof CorrectionLimitError || err instanceof StoreUnavailableError) throw err;
      throw new StoreUnavailableError(
        `could not ${what}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}
