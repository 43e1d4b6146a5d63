/**
 * The corrections store: a user's own labels for drawings the model read wrong (design.md,
 * "Corrections"). One interface, one SQL implementation (sql-store.ts) over two drivers: an
 * embedded PostgreSQL (PGlite) in a data folder, and a PostgreSQL server. Only the server
 * and training's import of exported corrections use it.
 */

/** Pixels in one stored input: the 28x28 the model saw, 8 bits each (0..255, ink = 255). */
export const INPUT_BYTES = 784;

/** Corrections one user may keep; one more is refused (CorrectionLimitError). */
export const MAX_CORRECTIONS_PER_USER = 1000;

/** An opaque user ID: 8-64 characters [A-Za-z0-9_-]. */
export const USER_PATTERN = '^[A-Za-z0-9_-]{8,64}$';
const USER_RE = new RegExp(USER_PATTERN);

export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && USER_RE.test(value);

export interface NewCorrection {
  readonly user: string;
  readonly label: number;
  /** INPUT_BYTES values 0..255. */
  readonly input: Uint8Array;
}

export interface Correction {
  readonly id: number;
  readonly user: string;
  readonly label: number;
  readonly input: Uint8Array;
  /** When it was stored, ISO 8601. */
  readonly created: string;
}

/** What identifies the state of one user's corrections: changes on every add and delete. */
export interface UserVersion {
  readonly count: number;
  /** The newest correction's id; 0 with none. */
  readonly lastId: number;
}

/**
 * A change to the stored corrections, by any writer (this process, another instance of a
 * fleet, an operator's SQL), delivered once committed. `live` and `lost` say when delivery
 * starts and stops: changes made while it was not live were not delivered.
 */
export type CorrectionsChange =
  | { readonly kind: 'added'; readonly user: string; readonly id: number }
  | { readonly kind: 'deleted'; readonly user: string }
  /** Every correction was removed at once (TRUNCATE). */
  | { readonly kind: 'cleared' }
  | { readonly kind: 'live' }
  | { readonly kind: 'lost' };

export interface CorrectionsStore {
  /** Which database holds the corrections: "embedded" (PGlite) or "postgres". */
  readonly kind: 'embedded' | 'postgres';
  /**
   * True when this process is the database's only writer (the embedded database belongs to
   * one process): what it has seen of a user is then all there is.
   */
  readonly exclusive: boolean;
  /** Resolves once the database answers and its schema is migrated. */
  ready(): Promise<void>;
  /** Stores one correction once it is durable; CorrectionLimitError when the user is full. */
  add(correction: NewCorrection): Promise<Correction>;
  /** A user's corrections, oldest first. */
  list(user: string): Promise<Correction[]>;
  version(user: string): Promise<UserVersion>;
  /** Removes every correction of a user; how many there were. */
  deleteUser(user: string): Promise<number>;
  /**
   * Calls `onChange` with every change committed from now on, and with `live` once delivery
   * has started (again) and `lost` when it stopped (the connection dropped: the store
   * reconnects by itself). Returns what stops it.
   */
  watch(onChange: (change: CorrectionsChange) => void): () => Promise<void>;
  /** Every stored correction, oldest first, `batch` rows at a time (for the export). */
  all(batch?: number): AsyncIterable<Correction[]>;
  close(): Promise<void>;
}

/** The database could not answer (down, or slower than the store's timeout). */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The user already keeps MAX_CORRECTIONS_PER_USER corrections. */
export class CorrectionLimitError extends Error {
  constructor(readonly limit: number) {
    super(
      `this user already has ${limit} corrections, the most kept per user: forget them (DELETE /api/corrections?user=…) to start again`,
    );
    this.name = 'CorrectionLimitError';
  }
}
