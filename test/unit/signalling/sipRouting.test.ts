import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type TrunkConfig, trunkSchema } from '../../../src/config/sipSchema.js';
import { NumberRouter } from '../../../src/signalling/inbound/numberRouter.js';
import { TrunkMatcher } from '../../../src/signalling/inbound/trunkMatcher.js';
import { OutboundTrunks } from '../../../src/signalling/outbound/outboundTrunks.js';
import { RoutingError, SipRouting } from '../../../src/signalling/routing/sipRouting.js';
import { TrunkMediaPolicies } from '../../../src/signalling/trunkMedia.js';
import { RoutingStore } from '../../../src/store/routingStore.js';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines, useStore } from '../../support/storeEngines.js';

const logger = pino({ level: 'silent' });
const APP = `app_${'A'.repeat(27)}`;
const OTHER_APP = `app_${'B'.repeat(27)}`;

function trunk(fields: Record<string, unknown>): TrunkConfig {
  return trunkSchema.parse({ kind: 'pstn', sourceAddresses: ['192.0.2.10'], ...fields });
}

const yamlTrunk = trunk({
  name: 'yaml',
  sourceAddresses: ['198.51.100.0/24'],
  outbound: { host: 'yaml.test' },
});
const config = {
  trunks: [yamlTrunk],
  numbers: [{ number: '+15550001', appId: APP }],
  apps: [{ appId: OTHER_APP, outboundTrunk: 'yaml' }],
  whatsapp: { numbers: [] },
};

async function code(change: () => Promise<unknown>): Promise<{ kind: string; field: string | undefined }> {
  try {
    await change();
  } catch (error) {
    if (error instanceof RoutingError) return { kind: error.kind, field: error.field };
    throw error;
  }
  throw new Error('no RoutingError');
}

describe.each(storeEngines())('routing on $name', (engine: StoreEngine) => {
  let sql: SqlStore;
  let store: RoutingStore;
  let routing: SipRouting;

  useStore(engine, (opened) => {
    sql = opened;
  });
  // One database per engine; each test starts from no stored routing.
  beforeEach(async () => {
    await sql.write([
      { text: 'DELETE FROM sip_numbers', params: [] },
      { text: 'DELETE FROM sip_apps', params: [] },
      { text: 'DELETE FROM sip_trunks', params: [] },
    ]);
    store = new RoutingStore(sql);
    routing = new SipRouting({ config, store, logger, now: () => new Date('2026-01-02T03:04:05Z') });
    await routing.load();
  });

  describe('RoutingStore', () => {
    it('keeps trunks, numbers and app trunks, secrets included, for any store reading them', async () => {
      await store.putTrunk(
        trunk({ name: 'a', outbound: { host: 'a.test', username: 'u', password: 'secret-1' } }),
        'T1',
      );
      await store.putTrunk(
        trunk({ name: 'a', outbound: { host: 'b.test', username: 'u', password: 'secret-2' } }),
        'T2',
      );
      expect(await store.addNumber({ number: '+15550002', appId: APP, trunk: 'a', createdAt: 'T1' })).toBe(
        true,
      );
      expect(await store.addNumber({ number: '+15550002', appId: APP, trunk: null, createdAt: 'T1' })).toBe(
        false,
      );
      await store.setAppTrunk(APP, 'a', 'T3');
      // What another process (or node) opening the same database reads.
      const other = new RoutingStore(sql);
      const { trunks, invalid } = await other.trunks();
      expect(invalid).toEqual([]);
      expect(trunks[0]).toMatchObject({ createdAt: 'T1', updatedAt: 'T2' });
      expect(trunks[0]?.config.outbound).toMatchObject({ host: 'b.test', password: 'secret-2' });
      expect(await other.numbers()).toEqual([
        { number: '+15550002', appId: APP, trunk: 'a', createdAt: 'T1' },
      ]);
      expect(await other.apps()).toEqual([{ appId: APP, outboundTrunk: 'a', updatedAt: 'T3' }]);
      await store.setAppTrunk(APP, null, 'T4');
      expect(await store.apps()).toEqual([]);
      expect(await store.deleteNumber('+15550002')).toBe(true);
      expect(await store.deleteTrunk('a')).toBe(true);
      expect(await store.deleteTrunk('a')).toBe(false);
    });

    it('fills defaults of trunk fields added since a trunk was stored, and names trunks it no longer takes', async () => {
      await sql.run('INSERT INTO sip_trunks (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)', [
        'old',
        JSON.stringify({ name: 'old', kind: 'pstn', sourceAddresses: ['192.0.2.1'] }),
        'T',
        'T',
      ]);
      await sql.run('INSERT INTO sip_trunks (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)', [
        'broken',
        JSON.stringify({ name: 'broken', kind: 'nonsense' }),
        'T',
        'T',
      ]);
      const { trunks, invalid } = await store.trunks();
      expect(trunks.map((t) => t.config)).toMatchObject([
        { name: 'old', inboundAuth: null, media: { encryption: 'none' } },
      ]);
      expect(invalid).toEqual(['broken']);
    });
  });

  describe('SipRouting', () => {
    it("sees another node's changes on refresh, and tells its listeners only when something changed", async () => {
      const other = new SipRouting({ config, store: new RoutingStore(sql), logger, now: () => new Date() });
      await other.load();
      const seen: number[] = [];
      other.onChange((view) => seen.push(view.numbers.length));
      await routing.createTrunk(trunk({ name: 'api' }));
      await routing.addNumber({ number: '+15550002', appId: APP });
      expect(other.view().numbers.map((n) => n.number)).toEqual(['+15550001']);
      expect(await other.refresh()).toBe(true);
      expect(other.view().numbers.map((n) => n.number)).toEqual(['+15550001', '+15550002']);
      expect(other.view().trunks.map((t) => t.name)).toContain('api');
      expect(await other.refresh()).toBe(false);
      await routing.deleteNumber('+15550002');
      expect(await other.refresh()).toBe(true);
      expect(seen).toEqual([2, 1]);
    });

    it('merges config and API entries, config first and read-only', async () => {
      await routing.createTrunk(trunk({ name: 'api' }));
      await routing.addNumber({ number: '+15550002', appId: APP });
      expect(routing.trunkEntries().map((e) => [e.trunk.name, e.source])).toEqual([
        ['yaml', 'config'],
        ['api', 'api'],
      ]);
      expect(routing.numberEntries().map((e) => [e.number, e.source])).toEqual([
        ['+15550001', 'config'],
        ['+15550002', 'api'],
      ]);
      expect(await code(() => routing.updateTrunk(trunk({ name: 'yaml' })))).toEqual({
        kind: 'read_only',
        field: undefined,
      });
      expect((await code(() => routing.deleteTrunk('yaml'))).kind).toBe('read_only');
      expect((await code(() => routing.deleteNumber('+15550001'))).kind).toBe('read_only');
      expect((await code(() => routing.setAppTrunk(OTHER_APP, 'yaml'))).kind).toBe('read_only');
    });

    it('refuses taken names and numbers, and references to missing or unfit trunks', async () => {
      expect(await code(() => routing.createTrunk(trunk({ name: 'yaml' })))).toEqual({
        kind: 'conflict',
        field: 'name',
      });
      expect(await code(() => routing.addNumber({ number: '+15550001', appId: APP }))).toEqual({
        kind: 'conflict',
        field: 'number',
      });
      expect(await code(() => routing.addNumber({ number: '+15550003', appId: APP, trunk: 'nope' }))).toEqual(
        {
          kind: 'invalid',
          field: 'trunk',
        },
      );
      await routing.createTrunk(trunk({ name: 'inbound-only' }));
      expect(await code(() => routing.setAppTrunk(APP, 'inbound-only'))).toEqual({
        kind: 'invalid',
        field: 'outboundTrunk',
      });
      expect(await code(() => routing.setAppTrunk(APP, 'missing'))).toEqual({
        kind: 'invalid',
        field: 'outboundTrunk',
      });
      expect(
        await code(() =>
          routing.createTrunk(trunk({ name: 'reg', registration: { username: 'u', password: 'p' } })),
        ),
      ).toEqual({ kind: 'invalid', field: 'registration' });
    });

    it('refuses to delete a trunk numbers or apps name, and to take its outbound side away', async () => {
      await routing.createTrunk(trunk({ name: 'out', outbound: { host: 'out.test' } }));
      await routing.addNumber({ number: '+15550004', appId: APP, trunk: 'out' });
      await routing.setAppTrunk(APP, 'out');
      expect((await code(() => routing.deleteTrunk('out'))).kind).toBe('conflict');
      expect(await code(() => routing.updateTrunk(trunk({ name: 'out' })))).toEqual({
        kind: 'invalid',
        field: 'outbound',
      });
      await routing.deleteNumber('+15550004');
      await routing.setAppTrunk(APP, null);
      await routing.deleteTrunk('out');
      expect(routing.trunkEntry('out')).toBeUndefined();
    });

    it('feeds the live consumers: matcher, number router, outbound trunks, media policies', async () => {
      const changes: number[] = [];
      routing.onChange((view) => changes.push(view.trunks.length));
      const matcher = new TrunkMatcher(() => routing.view().trunks);
      const numbers = new NumberRouter(() => routing.view().numbers);
      const outbound = new OutboundTrunks(() => routing.view());
      const media = new TrunkMediaPolicies(() => routing.view().trunks);
      expect(matcher.match('192.0.2.10')).toBeUndefined();

      await routing.createTrunk(
        trunk({
          name: 'live',
          outbound: { host: 'live.test' },
          media: { encryption: 'sdes', policy: 'required' },
        }),
      );
      await routing.addNumber({ number: '+15550005', appId: APP, trunk: 'live' });
      await routing.setAppTrunk(APP, 'live');
      expect(matcher.match('192.0.2.10')?.name).toBe('live');
      expect(numbers.appFor('+15550005', 'live')).toBe(APP);
      expect(numbers.appFor('+15550005', 'yaml')).toBeUndefined();
      expect(numbers.appFor('+15550001', 'live')).toBe(APP);
      expect(outbound.inviteFor(APP, '+15550100', '+15550200')?.uri).toBe(
        'sip:+15550200@live.test;transport=udp',
      );
      expect(media.encryptionOf('live')).toEqual({ method: 'sdes', required: true });

      await routing.updateTrunk(
        trunk({
          name: 'live',
          sourceAddresses: ['203.0.113.5'],
          outbound: { host: 'moved.test', port: 5080 },
          media: { encryption: 'sdes', policy: 'required' },
        }),
      );
      expect(matcher.match('192.0.2.10')).toBeUndefined();
      expect(matcher.match('203.0.113.5')?.name).toBe('live');
      expect(outbound.inviteFor(APP, '+15550100', '+15550200')?.uri).toBe(
        'sip:+15550200@moved.test:5080;transport=udp',
      );

      await routing.deleteNumber('+15550005');
      await routing.setAppTrunk(APP, null);
      await routing.deleteTrunk('live');
      expect(numbers.appFor('+15550005')).toBeUndefined();
      expect(outbound.trunkOf(APP)).toBeUndefined();
      expect(matcher.match('203.0.113.5')).toBeUndefined();
      // A call the deleted trunk delivered may still be ringing: it is answered under its policy.
      expect(media.encryptionOf('live')).toEqual({ method: 'sdes', required: true });
      expect(changes).toEqual([2, 2, 2, 2, 2, 2, 1]);
    });

    it('runs changes one at a time: of two concurrent creates of one name, the second is refused', async () => {
      const [first, second] = await Promise.allSettled([
        routing.createTrunk(trunk({ name: 'twice' })),
        routing.createTrunk(trunk({ name: 'twice', sourceAddresses: ['192.0.2.77'] })),
      ]);
      expect(first.status).toBe('fulfilled');
      expect(second).toMatchObject({ status: 'rejected', reason: { kind: 'conflict' } });
      expect(routing.trunkEntry('twice')?.trunk.sourceAddresses).toEqual(['192.0.2.10']);
    });

    it('patches a trunk with what is stored when the change runs', async () => {
      await routing.createTrunk(trunk({ name: 'p', outbound: { host: 'p.test' } }));
      await Promise.all([
        routing.patchTrunk('p', (current) => ({ ...current, sourceAddresses: ['192.0.2.50'] })),
        routing.patchTrunk('p', (current) => ({ ...current, allowTransfer: true })),
      ]);
      expect(routing.trunkEntry('p')?.trunk).toMatchObject({
        sourceAddresses: ['192.0.2.50'],
        allowTransfer: true,
      });
    });

    it("sees another process's changes only once it loads again", async () => {
      const other = new SipRouting({ config, store: new RoutingStore(sql), logger, now: () => new Date() });
      await other.load();
      await routing.addNumber({ number: '+15550009', appId: APP });
      expect(other.view().numbers.map((n) => n.number)).toEqual(['+15550001']);
      await other.load();
      expect(other.view().numbers.map((n) => n.number)).toEqual(['+15550001', '+15550009']);
    });

    it('lets config win over a stored entry of the same name at the next start', async () => {
      await store.putTrunk(trunk({ name: 'yaml', sourceAddresses: ['192.0.2.99'] }), 'T');
      await store.addNumber({ number: '+15550001', appId: OTHER_APP, trunk: null, createdAt: 'T' });
      const restarted = new SipRouting({ config, store, logger, now: () => new Date() });
      await restarted.load();
      expect(restarted.view().trunks.map((t) => t.sourceAddresses)).toEqual([['198.51.100.0/24']]);
      expect(restarted.view().numbers).toEqual([{ number: '+15550001', appId: APP }]);
    });
  });
});
