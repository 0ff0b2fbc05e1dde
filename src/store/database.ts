import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import { type Migration, migrations as releasedMigrations } from './migrations.js';

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
 */
export class Database {
  readonly sql: SqliteDatabase;
  private readonly logger: Logger;

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
  }

  get schemaVersion(): number {
    return this.sql.pragma('user_version', { simple: true }) as number;
  }

  get isOpen(): boolean {
    return this.sql.open;
  }

  /** A cheap round trip through SQLite, for readiness. */
  ping(): boolean {
    if (!this.sql.open) return false;
    return this.sql.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  close(): void {
    if (!this.sql.open) return;
    this.sql.pragma('wal_checkpoint(TRUNCATE)');
    this.sql.close();
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
