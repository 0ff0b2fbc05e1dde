import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { Database } from '../../src/store/database.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/sql/postgresStore.js';
import type { SqlStore } from '../../src/store/sql/sqlTypes.js';
import { type PostgresServer, postgresServerMissing, startPostgresServer } from './postgresServer.js';

const logger = pino({ level: 'silent' });

/**
 * The store engines every store test runs against: SQLite (in memory) and, where PostgreSQL is
 * installed (always under CI), a throwaway PostgreSQL server with a fresh database per `open`.
 */
export interface StoreEngine {
  name: 'sqlite' | 'postgres';
  open(options?: Partial<PostgresStoreOptions>): Promise<SqlStore>;
  /** Opens the database the last `open` made once more (what a restarted process would see). */
  reopen(): Promise<SqlStore>;
  /** Stops what `open` started (the PostgreSQL server). */
  dispose(): Promise<void>;
  /** PostgreSQL only: stops the server keeping its data, and starts it again on the same port. */
  stop?(): Promise<void>;
  restart?(): Promise<void>;
}

function sqliteEngine(): StoreEngine {
  let dir: string | undefined;
  let last = '';
  let files = 0;
  const at = (path: string) => new Database({ path, synchronous: 'full', logger });
  return {
    name: 'sqlite',
    async open() {
      dir ??= mkdtempSync(join(tmpdir(), 'store-engine-'));
      last = join(dir, `gateway-${++files}.db`);
      return at(last);
    },
    reopen: async () => at(last),
    async dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  };
}

function postgresEngine(): StoreEngine {
  let server: Promise<PostgresServer> | undefined;
  let databases = 0;
  let last = '';
  const engine: StoreEngine = {
    name: 'postgres',
    async open(options = {}) {
      server ??= startPostgresServer();
      const { url } = await server;
      // A database of its own per store, so tests sharing a server never see each other's rows.
      const name = `gateway_test_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const target = new URL(url);
      target.pathname = `/${name}`;
      last = target.toString();
      return PostgresStore.open({ url: last, logger, ...options });
    },
    reopen: () => PostgresStore.open({ url: last, logger }),
    async stop() {
      await (await server)?.pause();
    },
    async restart() {
      await (await server)?.resume();
    },
    async dispose() {
      const started = server;
      server = undefined;
      if (started) await (await started).stop();
    },
  };
  return engine;
}

export function storeEngines(): StoreEngine[] {
  const missing = postgresServerMissing();
  if (missing) console.warn(missing);
  return missing ? [sqliteEngine()] : [sqliteEngine(), postgresEngine()];
}

/**
 * Opens a store on `engine` before the tests of the enclosing describe and closes it (and the
 * engine) after them; `opened` receives it.
 */
export function useStore(engine: StoreEngine, opened: (store: SqlStore) => void): void {
  let store: SqlStore | undefined;
  beforeAll(async () => {
    store = await engine.open();
    opened(store);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await engine.dispose();
  });
}
