/**
 * The store's one way of talking to a database, whichever engine holds it (SQLite embedded, or
 * PostgreSQL shared by several gateway nodes). Queries are written once, in the SQL both engines
 * read, with `?` placeholders; each engine's implementation translates what it must.
 *
 * Writes and reads are shaped differently on purpose. A write is a batch of statements handed
 * over whole (`write`): it commits as one transaction, after every write handed over before it,
 * so a call's change and its event stay together and in order. SQLite commits it before `write`
 * returns, exactly as the gateway always did. PostgreSQL commits it moments later on its own
 * connection, and keeps the batch (retrying) while the database is away, so calls in progress are
 * not stopped by a database outage. Reads are asynchronous and see every write handed over
 * before them.
 */
export type SqlValue = string | number | null;

export interface SqlStatement {
  readonly text: string;
  readonly params: readonly SqlValue[];
}

export type SqlDialect = 'sqlite' | 'postgres';

export function statement(text: string, ...params: SqlValue[]): SqlStatement {
  return { text, params };
}

export interface SqlRunResult {
  /** Rows the statement inserted, changed or deleted. */
  changes: number;
}

/** Reads and single statements, inside a transaction or on their own. */
export interface SqlExecutor {
  all<R>(text: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R>(text: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  run(text: string, params?: readonly SqlValue[]): Promise<SqlRunResult>;
}

export interface SqlStore extends SqlExecutor {
  readonly dialect: SqlDialect;
  /**
   * Commits the statements as one transaction, after every earlier write and transaction. The
   * promise settles when they are committed (SQLite: already, unless a transaction was open);
   * nobody has to wait for it. A statement that fails rolls the whole batch back.
   */
  write(statements: readonly SqlStatement[]): Promise<void>;
  /**
   * A read-check-write: `work` runs alone (no other write or transaction of this store between
   * its statements) and commits when it resolves, rolls back when it throws.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Writes handed over and not yet committed (PostgreSQL while it is slow or away). */
  pendingWrites(): number;
  /** A round trip to the database, for readiness. */
  ping(): Promise<boolean>;
  readonly isOpen: boolean;
  /** The schema version the database is migrated to. */
  readonly schemaVersion: number;
  /** Commits what is pending (for a while), then closes. */
  close(): Promise<void>;
}
