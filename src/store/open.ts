/**
 * Opening the store the environment asks for: PostgreSQL when a URL is given, else the
 * embedded database in a data folder (no set-up).
 */
import { resolve } from 'node:path';
import { openPglite } from './pglite-client.ts';
import { openPostgres } from './postgres-client.ts';
import { SqlStore } from './sql-store.ts';
import type { CorrectionsStore } from './store.ts';

export const DEFAULT_DATA_DIR = './data';
/** The longest a store operation may take before it counts as "database unavailable". */
export const DEFAULT_STORE_TIMEOUT_MS = 2000;

/** Creating an embedded database takes about 2 s (PGlite's initdb); on a busy machine more. */
const EMBEDDED_MIGRATE_TIMEOUT_MS = 60_000;

export interface StoreConfig {
  /** PostgreSQL connection URL (DATABASE_URL); when set, the data folder is not used. */
  readonly databaseUrl?: string;
  /** The embedded database's folder (DATA_DIR); default ./data. */
  readonly dataDir?: string;
  readonly timeoutMs?: number;
  readonly maxPerUser?: number;
  readonly onError?: (err: Error) => void;
}

export async function openStore(config: StoreConfig): Promise<CorrectionsStore> {
  const timeoutMs = config.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  const options = { timeoutMs, maxPerUser: config.maxPerUser };
  if (config.databaseUrl) {
    const client = openPostgres({ url: config.databaseUrl, timeoutMs, onError: config.onError });
    const store = new SqlStore(client, { ...options, kind: 'postgres' });
    // A server that is down now is tried again on the next use: the app starts regardless.
    await store.migrate().catch((err: Error) => config.onError?.(err));
    return store;
  }
  // A folder that cannot be opened is a configuration error: the app does not start.
  const client = await openPglite(resolve(config.dataDir ?? DEFAULT_DATA_DIR));
  const store = new SqlStore(client, {
    ...options,
    kind: 'embedded',
    migrateTimeoutMs: EMBEDDED_MIGRATE_TIMEOUT_MS,
  });
  try {
    await store.migrate();
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
  return store;
}
