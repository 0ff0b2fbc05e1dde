import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PostgresServer,
  postgresServerMissing,
  startPostgresServer,
} from '../support/postgresServer.js';

const missing = postgresServerMissing();
if (missing) console.warn(missing);

describe.skipIf(missing !== undefined)('a throwaway PostgreSQL server', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts connections on its URL', async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ one: number; version: string }>(
        'SELECT 1 AS one, current_setting($1) AS version',
        ['server_version_num'],
      );
      expect(rows[0]?.one).toBe(1);
      expect(Number(rows[0]?.version)).toBeGreaterThanOrEqual(150_000);
    } finally {
      await client.end();
    }
  });
});
