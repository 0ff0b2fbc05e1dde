import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { Database } from './database.js';
import { PostgresStore } from './sql/postgresStore.js';
import type { SqlStore } from './sql/sqlTypes.js';

/**
 * The store the configuration names: the embedded SQLite file (the default: nothing to run
 * beside the gateway), or PostgreSQL shared by several gateway nodes. Migrated on open.
 */
export async function openStore(config: GatewayConfig['store'], logger: Logger): Promise<SqlStore> {
  if (config.kind === 'postgres') {
    // The schema refuses postgres without a url; this keeps the type honest.
    if (!config.url) throw new Error('store.kind postgres needs store.url');
    return PostgresStore.open({
      url: config.url,
      logger,
      poolSize: config.poolSize,
      statementTimeoutMs: config.statementTimeoutMs,
    });
  }
  return new Database({ path: config.path, synchronous: config.synchronous, logger });
}
