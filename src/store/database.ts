import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import { type Migration, migrations as releasedMigrations } from './migrations.js';
import { SerialQueue } from './sql/serialQueue.js';
import type { SqlExecutor, SqlRunResult, SqlStatement, SqlStore, SqlValue } from './sql/sqlTypes.js';

export type SqliteDatabase = BetterSqlite3.Database;

export interface DatabaseOptions {
  path: string;
  synchronous: 'full' | 'normal';
  logger: Logger;
  migrations?: readonly Migration[];
}

/**
 * The embedded SQLite store: opened in WAL mode (readers never block the writer, and a commit is
 * one append to the log), migrated to the newest schema, and closed with a checkpoint so a clean
 * stop leaves a single self-contained file.
 *
 * A write commits before `write` returns: one process, one connection, one writer, so the order
 * of commits is the order of calls. Only while a read-check-write `transaction` is open (it may
 * await between its statements) do writes wait in line behind it, so none lands inside it.
 */
export class Database implements SqlStore {
  readonly dialect = 'sqlite' as const;
  private readonly sql: SqliteDatabase;
  private readonly logger: Logger;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly queue = new SerialQueue();
  private readonly executor: SqlExecutor;

  constructor(options: DatabaseOptions) {
    this.logger = options.logger;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.sql = new BetterSqlite3(options.path);
    this.sql.pragma('journal_mode = WAL');
    this.sql.pragma(`synchronous = ${options.synchronous.toUpperCase()}`);
    this.sql.pragma('foreign_keys = ON');
    // Another connection (a second process, a backup) may hold the write lock briefly.
    this.sql.pragma('busy_timeout = 5000');
    this.migrate(options.migrations ?? releasedMigrations);
    this.executor = {
      all: async <R>(text: string, params: readonly SqlValue[] = []) => this.allNow<R>(text, params),
      get: async <R>(text: string, params: readonly SqlValue[] = []) => this.getNow<R>(text, params),
      run: async (text: string, params: readonly SqlValue[] = []) => this.runNow(text, params),
    };
  }

  get schemaVersion(): number {
    return this.sql.pragma('user_version', { simple: true }) as number;
  }

  get isOpen(): boolean {
    return this.sql.open;
  }

  /** Reads at once, or, while writes wait behind an open transaction, after them: a read sees every earlier write. */
  async all<R>(text: string, params: readonly SqlValue[] = []): Promise<R[]> {
    if (this.queue.idle) return this.allNow<R>(text, params);
    return this.queue.push(async () => this.allNow<R>(text, params));
  }

  async get<R>(text: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    if (this.queue.idle) return this.getNow<R>(text, params);
    return this.queue.push(async () => this.getNow<R>(text, params));
  }

  async run(text: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
    if (this.queue.idle) return this.runNow(text, params);
    return this.queue.push(async () => this.runNow(text, params));
  }

  write(statements: readonly SqlStatement[]): Promise<void> {
    const committed = this.queue.idle
      ? new Promise<void>((resolve) => resolve(this.commit(statements)))
      : this.queue.push(async () => this.commit(statements));
    // Nobody has to wait for a write: a failed one is logged here, not left unhandled.
    committed.catch((error: unknown) =>
      this.logger.error(
        { err: error, statements: statements.map((s) => s.text.slice(0, 80)) },
        'a write failed',
      ),
    );
    return committed;
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.push(async () => {
      this.sql.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(this.executor);
        this.sql.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.sql.inTransaction) this.sql.exec('ROLLBACK');
        throw error;
      }
    });
  }

  pendingWrites(): number {
    return this.queue.length;
  }

  /** A cheap round trip through SQLite, for readiness. */
  async ping(): Promise<boolean> {
    if (!this.sql.open) return false;
    return this.sql.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  async close(): Promise<void> {
    await this.queue.drained();
    this.closeNow();
  }

  /** Closes at once (a process exiting): what is committed stays, a batch waiting is lost. */
  closeNow(): void {
    if (!this.sql.open) return;
    this.sql.pragma('wal_checkpoint(TRUNCATE)');
    this.sql.close();
  }

  private getNow<R>(text: string, params: readonly SqlValue[] = []): R | undefined {
    return this.prepared(text).get(...params) as R | undefined;
  }

  private allNow<R>(text: string, params: readonly SqlValue[] = []): R[] {
    return this.prepared(text).all(...params) as R[];
  }

  private runNow(text: string, params: readonly SqlValue[]): SqlRunResult {
    return { changes: this.prepared(text).run(...params).changes };
  }

  private commit(statements: readonly SqlStatement[]): void {
    if (statements.length === 1) {
      const [only] = statements as [SqlStatement];
      this.runNow(only.text, only.params);
      return;
    }
    this.sql.transaction(() => {
      for (const s of statements) this.runNow(s.text, s.params);
    })();
  }

  private prepared(text: string): BetterSqlite3.Statement {
    let prepared = this.statements.get(text);
    if (!prepared) {
      prepared = this.sql.prepare(text);
      this.statements.set(text, prepared);
    }
    return prepared;
  }

  private migrate(all: readonly Migration[]): void {
    const current = this.schemaVersion;
    const newest = all.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new Error(`database schema version ${current} is newer than this gateway knows (${newest})`);
    }
    for (const migration of all) {
      if (migration.version <= current) continue;
      this.sql.transaction(() => {
        this.sql.exec(migration.sql);
        this.sql.pragma(`user_version = ${migration.version}`);
      })();
      this.logger.info({ version: migration.version, migration: migration.name }, 'database migrated');
    }
  }
}
