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

export interface SqlClient extends SqlQueryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
