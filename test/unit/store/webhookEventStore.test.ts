import { describe, expect, it } from 'vitest';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { WebhookEventStore } from '../../../src/store/webhookEventStore.js';
import { type StoreEngine, storeEngines, useStore } from '../../support/storeEngines.js';

describe.each(storeEngines())('WhatsApp webhook events taken on $name', (engine: StoreEngine) => {
  let sql: SqlStore;

  useStore(engine, (opened) => {
    sql = opened;
  });

  it('takes each (wacid, event) once, whoever asks', async () => {
    const events = new WebhookEventStore(sql);
    expect(await events.firstTime('wacid.1', 'connect', 'T1')).toBe(true);
    expect(await events.firstTime('wacid.1', 'connect', 'T2')).toBe(false);
    expect(await events.firstTime('wacid.1', 'terminate', 'T2')).toBe(true);
    expect(await events.firstTime('wacid.2', 'connect', 'T2')).toBe(true);
    // Another node on the same database sees the repeat too.
    expect(await new WebhookEventStore(sql).firstTime('wacid.2', 'connect', 'T3')).toBe(false);
  });

  it('answers a burst of the same event true exactly once', async () => {
    const events = new WebhookEventStore(sql);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => events.firstTime('wacid.burst', 'connect', 'T')),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
  });
});
