/**
 * What the store needs of a database driver: parameterized queries, several statements at
 * once (migrations), and a transaction. PGlite and `pg` each adapt to it in a few lines.
 */
export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly affectedRows: number;
}

export interface SqlQueryable {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<Row>>;
  /** Runs several statements with no parameters. */
  exec(sql: string): Promise<void>;
}

/** What a client tells a listener: the channel's payloads, and when delivery starts and stops. */
export interface ListenHandlers {
  /** A payload, and the server process (session) that sent it (0 when not known). */
  notification(payload: string, sender: number): void;
  /** true once listening (again), false when the connection that listened is gone. */
  live(isLive: boolean): void;
}

export interface Listening {
  /**
   * Sends a payload on the channel from the listening session (so that its receivers know
   * who sent it); nothing when not connected.
   */
  send(payload: string): Promise<void>;
  stop(): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  /**
   * Listens on a notification channel (LISTEN) until stopped, reconnecting by itself when
   * the connection drops.
   */
  listen(channel: string, handlers: ListenHandlers): Listening;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
