import { beforeEach, describe, expect, it } from 'vitest';
import {
  type CallingConfigKey,
  CallingConfigStore,
  DEFAULT_CALLING_SETTINGS,
} from '../../../src/store/callingConfigStore.js';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines, useStore } from '../../support/storeEngines.js';

const APP = `app_${'A'.repeat(27)}`;
let ids = 0;
const key = (now: string): CallingConfigKey => ({
  appId: APP,
  organizationId: 'org_1',
  newId: () => `cc_${++ids}`,
  now,
});

describe.each(storeEngines())('calling configurations on $name', (engine: StoreEngine) => {
  let sql: SqlStore;
  let store: CallingConfigStore;

  useStore(engine, (opened) => {
    sql = opened;
  });
  beforeEach(async () => {
    await sql.write([{ text: 'DELETE FROM calling_configs', params: [] }]);
    store = new CallingConfigStore(sql);
    await store.load();
  });

  it('gives the defaults to an app nobody configured', async () => {
    expect(store.settingsFor(APP)).toEqual(DEFAULT_CALLING_SETTINGS);
    expect(await store.get(APP)).toBeUndefined();
  });

  it('stores an update, keeps its id and createdAt on the next, and calls follow it at once', async () => {
    const first = await store.update(key('T1'), (current) => ({ ...current, autoRecordEnabled: true }));
    expect(first).toMatchObject({ appId: APP, organizationId: 'org_1', createdAt: 'T1', updatedAt: 'T1' });
    expect(store.settingsFor(APP).autoRecordEnabled).toBe(true);
    const second = await store.update(key('T2'), (current) => ({
      ...current,
      recordingFormat: 'ogg',
      voicemailGreetingUrl: 'https://example.com/greeting.wav',
    }));
    expect(second).toMatchObject({
      id: first.id,
      createdAt: 'T1',
      updatedAt: 'T2',
      autoRecordEnabled: true,
      recordingFormat: 'ogg',
      voicemailGreetingUrl: 'https://example.com/greeting.wav',
    });
    // Booleans come back booleans from either engine (stored INTEGER 0/1).
    expect(await store.get(APP)).toEqual(second);
    expect(store.settingsFor(APP)).toMatchObject({ recordingFormat: 'ogg', whatsappCallingEnabled: false });
  });

  it('loses no field to concurrent updates', async () => {
    await Promise.all([
      store.update(key('T1'), (current) => ({ ...current, voicemailEnabled: true })),
      store.update(key('T2'), (current) => ({ ...current, maxConcurrentCalls: 7 })),
      store.update(key('T3'), (current) => ({ ...current, defaultAnswerBehavior: 'voicemail' })),
    ]);
    expect(await store.get(APP)).toMatchObject({
      voicemailEnabled: true,
      maxConcurrentCalls: 7,
      defaultAnswerBehavior: 'voicemail',
    });
  });

  it('writes nothing when the change throws', async () => {
    await expect(
      store.update(key('T1'), () => {
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.get(APP)).toBeUndefined();
    expect(store.settingsFor(APP)).toEqual(DEFAULT_CALLING_SETTINGS);
  });

  it("holds another process's update back from calls until it reloads", async () => {
    const other = new CallingConfigStore(sql);
    await other.load();
    await store.update(key('T1'), (current) => ({ ...current, maxConcurrentCalls: 3 }));
    expect(other.settingsFor(APP).maxConcurrentCalls).toBe(DEFAULT_CALLING_SETTINGS.maxConcurrentCalls);
    // The API reads the database, so it shows the update already.
    expect((await other.get(APP))?.maxConcurrentCalls).toBe(3);
    await other.refresh();
    expect(other.settingsFor(APP).maxConcurrentCalls).toBe(3);
  });
});
