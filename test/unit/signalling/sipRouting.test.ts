import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TrunkConfig, trunkSchema } from '../../../src/config/sipSchema.js';
import { NumberRouter } from '../../../src/signalling/inbound/numberRouter.js';
import { TrunkMatcher } from '../../../src/signalling/inbound/trunkMatcher.js';
import { OutboundTrunks } from '../../../src/signalling/outbound/outboundTrunks.js';
import { RoutingError, SipRouting } from '../../../src/signalling/routing/sipRouting.js';
import { TrunkMediaPolicies } from '../../../src/signalling/trunkMedia.js';
import { Database } from '../../../src/store/database.js';
import { RoutingStore } from '../../../src/store/routingStore.js';

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

let dir: string;
let db: Database;
let store: RoutingStore;
let routing: SipRouting;

function code(change: () => unknown): { kind: string; field: string | undefined } {
  try {
    change();
  } catch (error) {
    if (error instanceof RoutingError) return { kind: error.kind, field: error.field };
    throw error;
  }
  throw new Error('no RoutingError');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'routing-'));
  db = new Database({ path: join(dir, 'gateway.db'), synchronous: 'full', logger });
  store = new RoutingStore(db);
  routing = new SipRouting({ config, store, logger, now: () => new Date('2026-01-02T03:04:05Z') });
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RoutingStore', () => {
  it('keeps trunks, numbers and app trunks across a reopen, secrets included', () => {
    store.putTrunk(
      trunk({ name: 'a', outbound: { host: 'a.test', username: 'u', password: 'secret-1' } }),
      'T1',
    );
    store.putTrunk(
      trunk({ name: 'a', outbound: { host: 'b.test', username: 'u', password: 'secret-2' } }),
      'T2',
    );
    expect(store.addNumber({ number: '+15550002', appId: APP, trunk: 'a', createdAt: 'T1' })).toBe(true);
    expect(store.addNumber({ number: '+15550002', appId: APP, trunk: null, createdAt: 'T1' })).toBe(false);
    store.setAppTrunk(APP, 'a', 'T3');
    db.close();
    db = new Database({ path: join(dir, 'gateway.db'), synchronous: 'full', logger });
    store = new RoutingStore(db);
    const [stored] = store.trunks();
    expect(stored).toMatchObject({ createdAt: 'T1', updatedAt: 'T2' });
    expect(stored?.config.outbound).toMatchObject({ host: 'b.test', password: 'secret-2' });
    expect(store.numbers()).toEqual([{ number: '+15550002', appId: APP, trunk: 'a', createdAt: 'T1' }]);
    expect(store.apps()).toEqual([{ appId: APP, outboundTrunk: 'a', updatedAt: 'T3' }]);
    store.setAppTrunk(APP, null, 'T4');
    expect(store.apps()).toEqual([]);
    expect(store.deleteNumber('+15550002')).toBe(true);
    expect(store.deleteTrunk('a')).toBe(true);
    expect(store.deleteTrunk('a')).toBe(false);
  });

  it('fills defaults of trunk fields added since a trunk was stored', () => {
    db.sql
      .prepare('INSERT INTO sip_trunks (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run('old', JSON.stringify({ name: 'old', kind: 'pstn', sourceAddresses: ['192.0.2.1'] }), 'T', 'T');
    expect(store.trunks()[0]?.config).toMatchObject({
      name: 'old',
      inboundAuth: null,
      media: { encryption: 'none' },
    });
  });
});

describe('SipRouting', () => {
  it('merges config and API entries, config first and read-only', () => {
    routing.createTrunk(trunk({ name: 'api' }));
    routing.addNumber({ number: '+15550002', appId: APP });
    expect(routing.trunkEntries().map((e) => [e.trunk.name, e.source])).toEqual([
      ['yaml', 'config'],
      ['api', 'api'],
    ]);
    expect(routing.numberEntries().map((e) => [e.number, e.source])).toEqual([
      ['+15550001', 'config'],
      ['+15550002', 'api'],
    ]);
    expect(code(() => routing.updateTrunk(trunk({ name: 'yaml' })))).toEqual({
      kind: 'read_only',
      field: undefined,
    });
    expect(code(() => routing.deleteTrunk('yaml')).kind).toBe('read_only');
    expect(code(() => routing.deleteNumber('+15550001')).kind).toBe('read_only');
    expect(code(() => routing.setAppTrunk(OTHER_APP, 'yaml')).kind).toBe('read_only');
  });

  it('refuses taken names and numbers, and references to missing or unfit trunks', () => {
    expect(code(() => routing.createTrunk(trunk({ name: 'yaml' })))).toEqual({
      kind: 'conflict',
      field: 'name',
    });
    expect(code(() => routing.addNumber({ number: '+15550001', appId: APP }))).toEqual({
      kind: 'conflict',
      field: 'number',
    });
    expect(code(() => routing.addNumber({ number: '+15550003', appId: APP, trunk: 'nope' }))).toEqual({
      kind: 'invalid',
      field: 'trunk',
    });
    routing.createTrunk(trunk({ name: 'inbound-only' }));
    expect(code(() => routing.setAppTrunk(APP, 'inbound-only'))).toEqual({
      kind: 'invalid',
      field: 'outboundTrunk',
    });
    expect(code(() => routing.setAppTrunk(APP, 'missing'))).toEqual({
      kind: 'invalid',
      field: 'outboundTrunk',
    });
    expect(
      code(() => routing.createTrunk(trunk({ name: 'reg', registration: { username: 'u', password: 'p' } }))),
    ).toEqual({ kind: 'invalid', field: 'registration' });
  });

  it('refuses to delete a trunk numbers or apps name, and to take its outbound side away', () => {
    routing.createTrunk(trunk({ name: 'out', outbound: { host: 'out.test' } }));
    routing.addNumber({ number: '+15550004', appId: APP, trunk: 'out' });
    routing.setAppTrunk(APP, 'out');
    expect(code(() => routing.deleteTrunk('out')).kind).toBe('conflict');
    expect(code(() => routing.updateTrunk(trunk({ name: 'out' })))).toEqual({
      kind: 'invalid',
      field: 'outbound',
    });
    routing.deleteNumber('+15550004');
    routing.setAppTrunk(APP, null);
    routing.deleteTrunk('out');
    expect(routing.trunkEntry('out')).toBeUndefined();
  });

  it('feeds the live consumers: matcher, number router, outbound trunks, media policies', () => {
    const changes: number[] = [];
    routing.onChange((view) => changes.push(view.trunks.length));
    const matcher = new TrunkMatcher(() => routing.view().trunks);
    const numbers = new NumberRouter(() => routing.view().numbers);
    const outbound = new OutboundTrunks(() => routing.view());
    const media = new TrunkMediaPolicies(() => routing.view().trunks);
    expect(matcher.match('192.0.2.10')).toBeUndefined();

    routing.createTrunk(
      trunk({
        name: 'live',
        outbound: { host: 'live.test' },
        media: { encryption: 'sdes', policy: 'required' },
      }),
    );
    routing.addNumber({ number: '+15550005', appId: APP, trunk: 'live' });
    routing.setAppTrunk(APP, 'live');
    expect(matcher.match('192.0.2.10')?.name).toBe('live');
    expect(numbers.appFor('+15550005', 'live')).toBe(APP);
    expect(numbers.appFor('+15550005', 'yaml')).toBeUndefined();
    expect(numbers.appFor('+15550001', 'live')).toBe(APP);
    expect(outbound.inviteFor(APP, '+15550100', '+15550200')?.uri).toBe(
      'sip:+15550200@live.test;transport=udp',
    );
    expect(media.encryptionOf('live')).toEqual({ method: 'sdes', required: true });

    routing.updateTrunk(
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

    routing.deleteNumber('+15550005');
    routing.setAppTrunk(APP, null);
    routing.deleteTrunk('live');
    expect(numbers.appFor('+15550005')).toBeUndefined();
    expect(outbound.trunkOf(APP)).toBeUndefined();
    expect(matcher.match('203.0.113.5')).toBeUndefined();
    // A call the deleted trunk delivered may still be ringing: it is answered under its policy.
    expect(media.encryptionOf('live')).toEqual({ method: 'sdes', required: true });
    expect(changes).toEqual([2, 2, 2, 2, 2, 2, 1]);
  });

  it('lets config win over a stored entry of the same name at the next start', () => {
    store.putTrunk(trunk({ name: 'yaml', sourceAddresses: ['192.0.2.99'] }), 'T');
    store.addNumber({ number: '+15550001', appId: OTHER_APP, trunk: null, createdAt: 'T' });
    const restarted = new SipRouting({ config, store, logger, now: () => new Date() });
    expect(restarted.view().trunks.map((t) => t.sourceAddresses)).toEqual([['198.51.100.0/24']]);
    expect(restarted.view().numbers).toEqual([{ number: '+15550001', appId: APP }]);
  });
});
