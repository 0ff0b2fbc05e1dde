import pg from 'pg';
import type { Logger } from 'pino';
import type { Migration } from '../migrations.js';
import { postgresMigrations } from '../postgresMigrations.js';
import { SerialQueue } from './serialQueue.js';
import type { SqlExecutor, SqlRunResult, SqlStatement, SqlStore, SqlValue } from './sqlTypes.js';

export interface PostgresStoreOptions {
  url: string;
  logger: Logger;
  /** Connections in the pool (reads, and the one writer). */
  poolSize?: number;
  /** A statement running longer than this is cancelled (and a write retried). */
  statementTimeoutMs?: number;
  migrations?: readonly Migration[];
  /** Longest wait between retries of a write the database could not take. */
  maxRetryDelayMs?: number;
}

/** Any key: it only has to be the same for every gateway migrating this database. */
const MIGRATION_LOCK = 7_401_142_020;
const INT8_OID = 20;

/** `?` placeholders (outside quoted text) become PostgreSQL's `$1, $2, …`. */
export function toPostgresPlaceholders(text: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

/**
 * SQLSTATE classes that say the database, not the statement, failed: connection lost, server
 * shutting down, out of resources, a lock conflict. A write that failed so is tried again;
 * one that failed for itself (a constraint, bad data) never would succeed.
 */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || code.length !== 5) return true; // a socket error, not SQL
  return ['08', '53', '57', '58', '40'].includes(code.slice(0, 2)) || code === '55P03';
}

/**
 * The store on PostgreSQL, shared by every node of a cluster. Writes go through one queue per
 * process and commit in the order they were handed over, each batch in its own transaction;
 * while the database is away a batch is retried with a capped backoff, and everything after it
 * waits, so nothing is lost or reordered by an outage (only by this process dying meanwhile,
 * which `pendingWrites` and the admission gate keep short). Reads wait for the writes handed
 * over before them, so a node reads what it wrote.
 */
export class PostgresStore implements SqlStore {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly queue = new SerialQueue();
  private readonly logger: Logger;
  private readonly maxRetryDelayMs: number;
  private readonly statementTimeoutMs: number;
  private open = true;
  private version = 0;
  private failing = false;

  private constructor(options: PostgresStoreOptions) {
    this.logger = options.logger;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5000;
    this.statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 8,
      statement_timeout: this.statementTimeoutMs,
      connectionTimeoutMillis: 5000,
      // COUNT(*) and BIGINT come back as numbers, as SQLite gives them (all ours fit in 2^53).
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? (value: string) => Number(value)
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection the server dropped must not crash the process.
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'postgres connection lost'));
  }

  /** Connects, migrates to the newest schema (one node at a time), and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.migrate(options.migrations ?? postgresMigrations);
    } catch (error) {
      await store.pool.end();
      throw error;
    }
    return store;
  }

  get isOpen(): boolean {
    return this.open;
  }

  get schemaVersion(): number {
    return this.version;
  }

  async all<R>(text: string, params: readonly SqlValue[] = []): Promise<R[]> {
    await this.writesBefore();
    const result = await this.pool.query(toPostgresPlaceholders(text), params as SqlValue[]);
    return result.rows as R[];
  }

  async get<R>(text: string, params: readonly SqlValue[] = []): Promise<R | undefined> {
    return (await this.all<R>(text, params))[0];
  }

  /**
   * Waits for the writes handed over before a read, so it sees them; for a statement timeout at
   * most: while the database is away they wait for it, and a read must fail rather than hang.
   */
  private async writesBefore(): Promise<void> {
    if (this.queue.idle) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the store is ${this.queue.length} writes behind; try again`)),
        this.statementTimeoutMs,
      );
    });
    try {
      await Promise.race([this.queue.drained(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  run(text: string, params: readonly SqlValue[] = []): Promise<SqlRunResult> {
    return this.queue.push(() => this.withClient((client) => this.runOn(client, text, params)));
  }

  write(statements: readonly SqlStatement[]): Promise<void> {
    const committed = this.queue.push(() => this.commitRetrying(statements));
    // Nobody has to wait for a write: a dropped one is logged where it failed, not unhandled.
    committed.catch(() => undefined);
    return committed;
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.queue.push(() =>
      this.withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await work(this.executorOn(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    );
  }

  pendingWrites(): number {
    return this.queue.length;
  }

  async ping(): Promise<boolean> {
    if (!this.open) return false;
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.open) return;
    const pending = this.queue.length;
    const drained = this.queue.drained();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 10_000, 'timeout').unref());
    if ((await Promise.race([drained, timeout])) === 'timeout') {
      this.logger.error(
        { pending: this.queue.length, before: pending },
        'postgres writes not committed at close',
      );
    }
    this.open = false;
    await this.pool.end();
  }

  private async commitRetrying(statements: readonly SqlStatement[]): Promise<void> {
    let delay = 100;
    for (;;) {
      try {
        await this.withClient(async (client) => {
          await client.query('BEGIN');
          try {
            for (const s of statements) await this.runOn(client, s.text, s.params);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        });
        if (this.failing) {
          this.failing = false;
          this.logger.info({ pending: this.queue.length }, 'postgres takes writes again');
        }
        return;
      } catch (error) {
        if (!isTransient(error)) {
          // Retrying would fail the same way and hold every later write back forever.
          this.logger.error(
            { err: error, statements: statements.map((s) => s.text.slice(0, 80)) },
            'postgres refused a write; it is dropped',
          );
          throw error;
        }
        if (!this.open) throw error;
        if (!this.failing) {
          this.failing = true;
          this.logger.warn({ err: error }, 'postgres unavailable: writes wait and are retried');
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      }
    }
  }

  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  private async runOn(
    client: pg.PoolClient,
    text: string,
    params: readonly SqlValue[],
  ): Promise<SqlRunResult> {
    const result = await client.query(toPostgresPlaceholders(text), params as SqlValue[]);
    return { changes: result.rowCount ?? 0 };
  }

  private executorOn(client: pg.PoolClient): SqlExecutor {
    return {
      all: async <R>(text: string, params: readonly SqlValue[] = []) =>
        (await client.query(toPostgresPlaceholders(text), params as SqlValue[])).rows as R[],
      get: async <R>(text: string, params: readonly SqlValue[] = []) =>
        (await client.query(toPostgresPlaceholders(text), params as SqlValue[])).rows[0] as R | undefined,
      run: (text: string, params: readonly SqlValue[] = []) => this.runOn(client, text, params),
    };
  }

  private async migrate(all: readonly Migration[]): Promise<void> {
    await this.withClient(async (client) => {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
        const row = (
          await client.query<{ version: number }>('SELECT MAX(version) AS version FROM schema_version')
        ).rows[0];
        const current = row?.version ?? 0;
        const newest = all.at(-1)?.version ?? 0;
        if (current > newest) {
          throw new Error(`database schema version ${current} is newer than this gateway knows (${newest})`);
        }
        for (const migration of all) {
          if (migration.version <= current) continue;
          await client.query('BEGIN');
          try {
            await client.query(migration.sql);
            await client.query('INSERT INTO schema_version (version) VALUES ($1)', [migration.version]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
          this.logger.info({ version: migration.version, migration: migration.name }, 'database migrated');
        }
        this.version = Math.max(current, newest);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    });
  }
}
