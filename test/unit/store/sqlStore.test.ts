import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/store/database.js';
import { type PostgresStore, toPostgresPlaceholders } from '../../../src/store/sql/postgresStore.js';
import { type SqlStore, statement } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines } from '../../support/storeEngines.js';

const logger = pino({ level: 'silent' });

describe('toPostgresPlaceholders', () => {
  it('numbers the placeholders and leaves quoted question marks alone', () => {
    expect(toPostgresPlaceholders("SELECT ? , '?' , ? WHERE a = 'x?y' AND b = ?")).toBe(
      "SELECT $1 , '?' , $2 WHERE a = 'x?y' AND b = $3",
    );
  });
});

describe.each(storeEngines())('the store on $name', (engine: StoreEngine) => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await engine.open();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await engine.dispose();
  });

  it('is migrated to the newest schema and answers a ping', async () => {
    expect(await store.ping()).toBe(true);
    const rows = await store.all<{ n: number }>('SELECT COUNT(*) AS n FROM calls');
    // COUNT(*) comes back a number on both engines (PostgreSQL's BIGINT included).
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('commits a batch whole and in the order batches were handed over', async () => {
    const key = `order-${engine.name}`;
    const writes: Promise<void>[] = [];
    for (let i = 1; i <= 20; i++) {
      writes.push(
        store.write([
          statement(
            'INSERT INTO event_channel_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
            key,
            String(i),
          ),
          statement(
            'INSERT INTO gateway_liveness (id, alive_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET alive_at = excluded.alive_at',
            `t${i}`,
          ),
        ]),
      );
    }
    await Promise.all(writes);
    expect(await store.get('SELECT value FROM event_channel_state WHERE key = ?', [key])).toEqual({
      value: '20',
    });
    expect(await store.get('SELECT alive_at FROM gateway_liveness WHERE id = 1')).toEqual({
      alive_at: 't20',
    });
  });

  it('reads what was written before the read, without waiting on the write', async () => {
    void store.write([
      statement('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', `ryw-${engine.name}`, 'x'),
    ]);
    expect(
      await store.get('SELECT value FROM event_channel_state WHERE key = ?', [`ryw-${engine.name}`]),
    ).toEqual({
      value: 'x',
    });
  });

  it('rolls a failing batch back entirely and goes on with the next', async () => {
    const key = `dup-${engine.name}`;
    const failed = store.write([
      statement('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', `${key}-a`, '1'),
      statement('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', `${key}-a`, '2'),
    ]);
    await expect(failed).rejects.toThrow();
    await store.write([
      statement('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', `${key}-b`, '3'),
    ]);
    const rows = await store.all<{ key: string }>(
      'SELECT key FROM event_channel_state WHERE key LIKE ? ORDER BY key',
      [`${key}%`],
    );
    expect(rows.map((r) => r.key)).toEqual([`${key}-b`]);
  });

  it('runs a read-check-write alone: concurrent increments lose nothing', async () => {
    const key = `counter-${engine.name}`;
    await store.write([statement('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', key, '0')]);
    await Promise.all(
      Array.from({ length: 25 }, () =>
        store.transaction(async (tx) => {
          const row = await tx.get<{ value: string }>('SELECT value FROM event_channel_state WHERE key = ?', [
            key,
          ]);
          await tx.run('UPDATE event_channel_state SET value = ? WHERE key = ?', [
            String(Number(row?.value) + 1),
            key,
          ]);
        }),
      ),
    );
    expect(await store.get('SELECT value FROM event_channel_state WHERE key = ?', [key])).toEqual({
      value: '25',
    });
  });

  it('rolls a transaction back when its work throws', async () => {
    const key = `tx-${engine.name}`;
    await expect(
      store.transaction(async (tx) => {
        await tx.run('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', [key, 'x']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await store.get('SELECT value FROM event_channel_state WHERE key = ?', [key])).toBeUndefined();
  });

  it('keeps identity seqs in insertion order and returns BIGINT columns as numbers', async () => {
    for (const id of ['e1', 'e2', 'e3']) {
      await store.write([
        statement(
          'INSERT INTO event_outbox (event_id, event, call_id, payload, created_at) VALUES (?, ?, ?, ?, ?)',
          `${id}-${engine.name}`,
          'calls.initiated',
          null,
          '{}',
          '2026-01-01T00:00:00.000Z',
        ),
      ]);
    }
    const rows = await store.all<{ seq: number; event_id: string }>(
      'SELECT seq, event_id FROM event_outbox ORDER BY seq',
    );
    expect(rows.map((r) => r.event_id)).toEqual(['e1', 'e2', 'e3'].map((id) => `${id}-${engine.name}`));
    expect(typeof rows[0]?.seq).toBe('number');
  });
});

describe('a PostgreSQL store whose server goes away', () => {
  const engine = storeEngines().find((e) => e.name === 'postgres');
  it.skipIf(!engine?.restart)(
    'keeps writes while the server is down and commits them, in order, once it is back',
    async () => {
      if (!engine?.restart) return;
      const store = await engine.open({ maxRetryDelayMs: 200, statementTimeoutMs: 500 });
      try {
        await engine.stop?.();
        const writes = [1, 2, 3].map((i) =>
          store.write([
            statement('INSERT INTO event_channel_state (key, value) VALUES (?, ?)', `outage-${i}`, String(i)),
          ]),
        );
        expect(store.pendingWrites()).toBe(3);
        expect(await store.ping()).toBe(false);
        // A read behind them fails within the statement timeout instead of hanging.
        await expect(store.get('SELECT 1 AS one')).rejects.toThrow(/3 writes behind/);
        await engine.restart();
        await Promise.all(writes);
        const rows = await store.all<{ key: string }>(
          "SELECT key FROM event_channel_state WHERE key LIKE 'outage-%' ORDER BY key",
        );
        expect(rows.map((r) => r.key)).toEqual(['outage-1', 'outage-2', 'outage-3']);
      } finally {
        await store.close();
        await engine.dispose();
      }
    },
    60_000,
  );
});

// Both kinds implement the same interface; a type-level check that neither drifts.
const _engines: SqlStore[] = [] as (Database | PostgresStore)[];
void _engines;
void logger;
