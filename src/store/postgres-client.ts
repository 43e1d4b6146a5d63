/**
 * The PostgreSQL driver: a small `pg` pool that gives up on a slow or unreachable server,
 * and a connection of its own for LISTEN.
 */
import pg from 'pg';
import { LISTENER_NAME } from './changes.ts';
import type {
  ListenHandlers,
  Listening,
  QueryResult,
  SqlClient,
  SqlQueryable,
} from './sql-client.ts';

export interface PostgresOptions {
  readonly url: string;
  /** Longest wait for a connection or a statement, in ms. */
  readonly timeoutMs: number;
  /** Connections kept; default 4 (the API's queries are short). */
  readonly max?: number;
  readonly onError?: (err: Error) => void;
  /**
   * How often the listening connection is checked with a query (default 2 s): a server that
   * hangs, or a network that drops packets without closing the connection, would otherwise
   * leave a listener that hears nothing and does not know it.
   */
  readonly listenCheckMs?: number;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5000;
const CHANNEL = /^[a-z_][a-z0-9_]*$/;

/**
 * LISTEN on a connection outside the pool (a pooled connection would be handed to other
 * queries): live once LISTEN has answered; on any error, end or failed check, not live,
 * closed, and connected again after a growing pause (0.1 s to 5 s).
 */
function listener(options: PostgresOptions, channel: string, handlers: ListenHandlers): Listening {
  if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
  let stopped = false;
  let current: pg.Client | null = null;
  let live = false;
  let retryMs = RETRY_FIRST_MS;
  let retry: NodeJS.Timeout | undefined;
  let check: NodeJS.Timeout | undefined;
  const setLive = (value: boolean) => {
    if (live === value) return;
    live = value;
    handlers.live(value);
  };
  const drop = (client: pg.Client) => {
    if (current !== client) return;
    current = null;
    clearInterval(check);
    setLive(false);
    client.end().catch(() => {});
    if (stopped) return;
    retry = setTimeout(connect, retryMs);
    retry.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };
  const connect = async () => {
    if (stopped) return;
    const client = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
      keepAlive: true,
      application_name: LISTENER_NAME,
    });
    current = client;
    client.on('notification', (message) => {
      if (current === client && message.channel === channel) {
        handlers.notification(message.payload ?? '', message.processId);
      }
    });
    client.on('error', (err) => {
      options.onError?.(err);
      drop(client);
    });
    client.on('end', () => drop(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      if (current === client) options.onError?.(err as Error);
      drop(client);
      return;
    }
    if (current !== client) return;
    retryMs = RETRY_FIRST_MS;
    setLive(true);
    let checking = false;
    check = setInterval(() => {
      if (checking) return;
      checking = true;
      client
        .query('SELECT 1')
        .catch((err: Error) => {
          options.onError?.(err);
          drop(client);
        })
        .finally(() => (checking = false));
    }, options.listenCheckMs ?? 2000);
    check.unref();
  };
  void connect();
  return {
    async send(payload) {
      if (!live || !current) return;
      await current.query('SELECT pg_notify($1, $2)', [channel, payload]).catch(() => {});
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const client = current;
      current = null;
      clearInterval(check);
      setLive(false);
      await client?.end().catch(() => {});
    },
  };
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
    listen: (channel, handlers) => listener(options, channel, handlers),
    close: () => pool.end(),
  };
}
