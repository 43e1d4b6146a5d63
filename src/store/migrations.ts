/**
 * The schema, as an ordered list of migrations applied at start, and the runner. The same
 * SQL runs on PGlite and on PostgreSQL (PGlite is PostgreSQL compiled to WebAssembly).
 *
 * A small runner rather than a library: node-pg-migrate and postgres-migrations drive the
 * `pg` client only, and umzug keeps no lock; here one table records what was applied and a
 * transaction-scoped advisory lock lets several instances of a fleet start at once against
 * one database, each migration applied exactly once.
 */
import type { SqlClient } from './sql-client.ts';

export interface Migration {
  /** Increasing from 1; never renumbered once released. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'corrections',
    sql: `
      CREATE TABLE corrections (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id text NOT NULL CHECK (user_id ~ '^[A-Za-z0-9_-]{8,64}$'),
        label smallint NOT NULL CHECK (label BETWEEN 0 AND 9),
        input bytea NOT NULL CHECK (octet_length(input) = 784),
        created timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX corrections_by_user ON corrections (user_id, id);
    `,
  },
  {
    // Every committed change is announced on the channel `corrections_changed` (read by
    // changes.ts), whoever made it: the instances of a fleet keep their caches by it.
    // NOTIFY sends one of identical payloads per transaction, so deleting a user's thousand
    // corrections announces one deletion.
    version: 2,
    name: 'announce changes',
    sql: `
      CREATE FUNCTION corrections_announce() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('corrections_changed', 'cleared');
        ELSIF TG_OP = 'INSERT' THEN
          PERFORM pg_notify('corrections_changed', 'added ' || NEW.id || ' ' || NEW.user_id);
        ELSE
          -- A deletion, or an update (the app makes none): what the user had is gone.
          PERFORM pg_notify('corrections_changed', 'deleted ' || OLD.user_id);
          IF TG_OP = 'UPDATE' THEN
            PERFORM pg_notify('corrections_changed', 'deleted ' || NEW.user_id);
          END IF;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER corrections_announce_rows AFTER INSERT OR UPDATE OR DELETE ON corrections
        FOR EACH ROW EXECUTE FUNCTION corrections_announce();
      CREATE TRIGGER corrections_announce_truncate AFTER TRUNCATE ON corrections
        FOR EACH STATEMENT EXECUTE FUNCTION corrections_announce();
    `,
  },
];

/** Any fixed number: the advisory lock that serializes migrations across instances. */
const MIGRATION_LOCK = 7_310_012;

/** Applies the migrations not yet applied, in order, in one transaction; their versions. */
export async function migrate(
  client: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => Number(row.version)));
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
