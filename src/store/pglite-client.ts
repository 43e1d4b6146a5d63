/** The embedded driver: PGlite (PostgreSQL as WebAssembly) keeping its files in a folder. */
import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { QueryResult, SqlClient, SqlQueryable } from './sql-client.ts';

function queryable(db: PGlite | Transaction): SqlQueryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await db.query<Row>(sql, [...params]);
      return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await db.exec(sql);
    },
  };
}

/** Opens (creating on first use) the database in `dataDir`. */
export async function openPglite(dataDir: string): Promise<SqlClient> {
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  return {
    ...queryable(db),
    transaction: (work) => db.transaction((tx) => work(queryable(tx))),
    listen(channel, handlers) {
      // In the same process: live as soon as LISTEN ran, and never lost.
      let stopped = false;
      const listening = db.listen(channel, (payload) => {
        if (!stopped) handlers.notification(payload, 0);
      });
      listening.then(
        () => !stopped && handlers.live(true),
        () => {},
      );
      return {
        async send(payload) {
          await db.query('SELECT pg_notify($1, $2)', [channel, payload]).catch(() => {});
        },
        async stop() {
          stopped = true;
          const unlisten = await listening.catch(() => null);
          await unlisten?.().catch(() => {});
        },
      };
    },
    close: () => db.close(),
  };
}
