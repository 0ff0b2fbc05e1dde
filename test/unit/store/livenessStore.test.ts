import { describe, expect, it } from 'vitest';
import { LivenessStore } from '../../../src/store/livenessStore.js';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines, useStore } from '../../support/storeEngines.js';

describe.each(storeEngines())('the liveness heartbeat on $name', (engine: StoreEngine) => {
  let sql: SqlStore;

  useStore(engine, (opened) => {
    sql = opened;
  });

  it('has no time before the first beat, then the newest committed one', async () => {
    const liveness = new LivenessStore(sql);
    expect(await liveness.lastAlive()).toBeUndefined();
    liveness.beat('2026-12-01T10:00:00.000Z');
    // A read sees every write handed over before it.
    expect(await liveness.lastAlive()).toBe('2026-12-01T10:00:00.000Z');
    liveness.beat('2026-12-01T10:00:01.000Z');
    // What the next process reads (a store of its own on the same database).
    expect(await new LivenessStore(sql).lastAlive()).toBe('2026-12-01T10:00:01.000Z');
  });
});
