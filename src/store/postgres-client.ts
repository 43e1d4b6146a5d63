/** The PostgreSQL driver: a small `pg` pool that gives up on a slow or unreachable server. */
import pg from 'pg';
import type { QueryResult, SqlClient, SqlQueryable } from './sql-client.ts';

export interface PostgresOptions {
  readonly url: string;
  /** Longest wait for a connection or a statement, in ms. */
  readonly timeoutMs: number;
  /** Connections kept; default 4 (the API's queries are short). */
  readonly max?: number;
  readonly onError?: (err: Error) => void;
}

function queryable(target: pg.Pool | pg.PoolClient): SqlQueryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const result = await target.query(sql, [...params]);
      return { rows: result.rows as Row[], affectedRows: result.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      await target.query(sql);
    },
  };
}

export function openPostgres(options: PostgresOptions): SqlClient {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.timeoutMs,
    // The server cancels a statement that runs too long, the client stops waiting for one
    // that never answers (a server that hangs, a network that drops packets).
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + 500,
    idleTimeoutMillis: 30_000,
    application_name: 'digits',
  });
  // An idle connection that breaks (the server restarts) must not crash the process; the
  // pool drops it and connects again on the next query.
  pool.on('error', (err) => options.onError?.(err));
  return {
    ...queryable(pool),
    async transaction(work) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(queryable(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw err;
      } finally {
        // A connection whose rollback failed is not given back to the pool.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
