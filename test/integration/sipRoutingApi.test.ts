import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayMessageSchema } from '../../src/control/events/eventMessages.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';

/**
 * The routing API over HTTP (no SIP server: what it stores and answers). sipRoutingCalls.test.ts
 * places calls through what it makes.
 */
let running: RunningGateway;
const SECRETS = ['outbound-secret-1', 'inbound-secret-1', 'register-secret-1', 'outbound-secret-2'];

async function call(method: string, path: string, body?: unknown, key: string = KEYS.admin) {
  const response = await fetch(`${running.url}${path}`, {
    method,
    headers: { ...bearer(key), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

function fieldsNamed(json: any): string[] {
  return (json.error?.details ?? []).map((d: { field: string }) => d.field);
}

beforeAll(async () => {
  running = await startInProcessGateway({
    sip: {
      trunks: [
        {
          name: 'yaml-trunk',
          kind: 'pstn',
          sourceAddresses: ['198.51.100.1'],
          outbound: { host: 'yaml.test' },
        },
      ],
      numbers: [{ number: '+15550001', appId: TEST_APP_ID }],
      apps: [{ appId: OTHER_APP_ID, outboundTrunk: 'yaml-trunk' }],
    },
  });
});
afterAll(async () => {
  await running.stop();
});

describe('routing API: trunks', () => {
  it('creates, reads, changes and deletes a trunk, never returning a password', async () => {
    const created = await call('POST', '/v1/sip/trunks', {
      name: 'carrier',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.0/24'],
      inboundAuth: { realm: 'carrier.test', username: 'in', password: 'inbound-secret-1' },
      outbound: {
        host: 'sip.carrier.test',
        transport: 'tcp',
        username: 'out',
        password: 'outbound-secret-1',
      },
      registration: { username: 'reg', password: 'register-secret-1', registrar: '127.0.0.1:9' },
      media: { encryption: 'sdes', policy: 'optional' },
      allowTransfer: true,
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json).toMatchObject({
      id: 'carrier',
      name: 'carrier',
      source: 'api',
      inboundAuth: { realm: 'carrier.test', username: 'in', algorithm: 'MD5', hasPassword: true },
      outbound: { host: 'sip.carrier.test', transport: 'tcp', username: 'out', hasPassword: true },
      registration: { username: 'reg', hasPassword: true, expiresSeconds: 3600 },
      media: { encryption: 'sdes', policy: 'optional' },
      allowTransfer: true,
    });

    const read = await call('GET', '/v1/sip/trunks/carrier');
    expect(read.status).toBe(200);
    // No SIP server here: the registration the API made is waiting to send its first REGISTER.
    expect(read.json.registration).toMatchObject({ state: 'registering', expiresAt: null, lastError: null });
    expect((await call('GET', '/v1/sip/trunks/carrier/registration')).status).toBe(200);

    // A nested object sent without its password keeps the stored one.
    const patched = await call('PATCH', '/v1/sip/trunks/carrier', {
      sourceAddresses: ['203.0.113.9'],
      outbound: { host: 'sip2.carrier.test', username: 'out' },
      registration: null,
    });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json).toMatchObject({
      sourceAddresses: ['203.0.113.9'],
      outbound: { host: 'sip2.carrier.test', username: 'out', hasPassword: true },
      registration: null,
    });
    const stored = running.gateway.routing.trunkEntry('carrier')?.trunk;
    expect(stored?.outbound?.password).toBe('outbound-secret-1');
    expect(stored?.inboundAuth?.password).toBe('inbound-secret-1');
    expect((await call('GET', '/v1/sip/trunks/carrier/registration')).status).toBe(404);

    const list = await call('GET', '/v1/sip/trunks');
    expect(list.json.trunks.map((t: any) => [t.name, t.source])).toEqual([
      ['yaml-trunk', 'config'],
      ['carrier', 'api'],
    ]);

    expect((await call('DELETE', '/v1/sip/trunks/carrier')).status).toBe(204);
    expect((await call('GET', '/v1/sip/trunks/carrier')).status).toBe(404);
    expect((await call('DELETE', '/v1/sip/trunks/carrier')).status).toBe(404);
  });

  it('names each bad field in a 400', async () => {
    const bad = await call('POST', '/v1/sip/trunks', {
      name: 'Bad Name',
      kind: 'fax',
      sourceAddresses: ['not-an-address'],
      outbound: { host: 'ok.test', transport: 'sctp', username: 'u' },
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect(fieldsNamed(bad.json)).toEqual(
      expect.arrayContaining(['name', 'kind', 'sourceAddresses[0]', 'outbound.transport', 'extra']),
    );
    const noOutbound = await call('POST', '/v1/sip/trunks', {
      name: 'reg-only',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.1'],
      registration: { username: 'u', password: 'register-secret-1' },
    });
    expect(noOutbound.status).toBe(400);
    expect(fieldsNamed(noOutbound.json)).toEqual(['registration']);

    await call('POST', '/v1/sip/trunks', { name: 'patchable', kind: 'pstn', sourceAddresses: ['192.0.2.2'] });
    const badPatch = await call('PATCH', '/v1/sip/trunks/patchable', {
      name: 'renamed',
      outbound: { host: 'ok.test', port: 70000 },
    });
    expect(badPatch.status).toBe(400);
    expect(fieldsNamed(badPatch.json)).toEqual(['name']);
    const badPort = await call('PATCH', '/v1/sip/trunks/patchable', {
      outbound: { host: 'ok.test', port: 70000 },
    });
    expect(fieldsNamed(badPort.json)).toEqual(['outbound.port']);
    expect((await call('DELETE', '/v1/sip/trunks/patchable')).status).toBe(204);
  });

  it('answers 409 for a taken name and for config entries', async () => {
    const taken = await call('POST', '/v1/sip/trunks', {
      name: 'yaml-trunk',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.3'],
    });
    expect(taken.status).toBe(409);
    expect(
      (await call('PATCH', '/v1/sip/trunks/yaml-trunk', { sourceAddresses: ['192.0.2.3'] })).json.error.code,
    ).toBe('read_only');
    expect((await call('DELETE', '/v1/sip/trunks/yaml-trunk')).status).toBe(409);
  });

  it('is for admin keys only', async () => {
    expect((await call('GET', '/v1/sip/trunks', undefined, KEYS.app)).status).toBe(403);
    expect(
      (await call('POST', '/v1/sip/numbers', { number: '+15550999', appId: TEST_APP_ID }, KEYS.app)).status,
    ).toBe(403);
  });
});

describe('routing API: numbers and app trunks', () => {
  it('routes a number, refuses it taken, and deletes it', async () => {
    await call('POST', '/v1/sip/trunks', { name: 'numbers', kind: 'pstn', sourceAddresses: ['192.0.2.4'] });
    const created = await call('POST', '/v1/sip/numbers', {
      number: '+15550002',
      appId: TEST_APP_ID,
      trunk: 'numbers',
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.json).toMatchObject({
      number: '+15550002',
      appId: TEST_APP_ID,
      trunk: 'numbers',
      source: 'api',
    });
    expect((await call('POST', '/v1/sip/numbers', { number: '+15550002', appId: OTHER_APP_ID })).status).toBe(
      409,
    );
    expect((await call('POST', '/v1/sip/numbers', { number: '+15550001', appId: OTHER_APP_ID })).status).toBe(
      409,
    );
    const bad = await call('POST', '/v1/sip/numbers', { number: '5550003', appId: 'nope', trunk: 'missing' });
    expect(fieldsNamed(bad.json)).toEqual(['number', 'appId']);
    const missingTrunk = await call('POST', '/v1/sip/numbers', {
      number: '+15550003',
      appId: TEST_APP_ID,
      trunk: 'missing',
    });
    expect(missingTrunk.status).toBe(400);
    expect(fieldsNamed(missingTrunk.json)).toEqual(['trunk']);

    // A trunk that numbers name is not deleted under them.
    const inUse = await call('DELETE', '/v1/sip/trunks/numbers');
    expect(inUse.status).toBe(409);
    expect(inUse.json.error.message).toContain('+15550002');

    const list = await call('GET', '/v1/sip/numbers');
    expect(list.json.numbers.map((n: any) => [n.number, n.source])).toEqual([
      ['+15550001', 'config'],
      ['+15550002', 'api'],
    ]);
    expect((await call('DELETE', '/v1/sip/numbers/%2B15550001')).status).toBe(409);
    expect((await call('DELETE', '/v1/sip/numbers/%2B15550002')).status).toBe(204);
    expect((await call('DELETE', '/v1/sip/numbers/%2B15550002')).status).toBe(404);
    expect((await call('DELETE', '/v1/sip/trunks/numbers')).status).toBe(204);
  });

  it("sets an app's outbound trunk: it must exist and be able to dial out", async () => {
    await call('POST', '/v1/sip/trunks', {
      name: 'dial-out',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.5'],
      outbound: { host: 'out.test', username: 'u', password: 'outbound-secret-2' },
    });
    await call('POST', '/v1/sip/trunks', { name: 'in-only', kind: 'pstn', sourceAddresses: ['192.0.2.6'] });
    const url = `/v1/organization/apps/${TEST_APP_ID}/sip`;
    for (const outboundTrunk of ['missing', 'in-only']) {
      const refused = await call('PATCH', url, { outboundTrunk });
      expect(refused.status).toBe(400);
      expect(fieldsNamed(refused.json)).toEqual(['outboundTrunk']);
    }
    const set = await call('PATCH', url, { outboundTrunk: 'dial-out' });
    expect(set).toEqual({
      status: 200,
      json: { appId: TEST_APP_ID, outboundTrunk: 'dial-out', source: 'api' },
    });
    expect((await call('GET', url)).json).toEqual({
      appId: TEST_APP_ID,
      outboundTrunk: 'dial-out',
      source: 'api',
    });
    expect((await call('DELETE', '/v1/sip/trunks/dial-out')).status).toBe(409);
    expect(
      (await call('PATCH', `/v1/organization/apps/${OTHER_APP_ID}/sip`, { outboundTrunk: 'dial-out' }))
        .status,
    ).toBe(409);
    expect((await call('PATCH', url, { outboundTrunk: null })).json.outboundTrunk).toBeNull();
    expect((await call('DELETE', '/v1/sip/trunks/dial-out')).status).toBe(204);
  });
});

describe('routing API: events', () => {
  it('reports each change on the event channel, about no call and without secrets', async () => {
    const { outbox } = running.gateway.events;
    const from = (await outbox.unackedAfter(0, 100_000)).at(-1)?.seq ?? 0;
    await call('POST', '/v1/sip/trunks', {
      name: 'evented',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.7'],
      outbound: { host: 'ev.test', username: 'u', password: 'outbound-secret-1' },
    });
    await call('PATCH', '/v1/sip/trunks/evented', { sourceAddresses: ['192.0.2.8'] });
    await call('POST', '/v1/sip/numbers', { number: '+15550007', appId: TEST_APP_ID });
    await call('PATCH', `/v1/organization/apps/${TEST_APP_ID}/sip`, { outboundTrunk: 'evented' });
    await call('PATCH', `/v1/organization/apps/${TEST_APP_ID}/sip`, { outboundTrunk: null });
    await call('DELETE', '/v1/sip/numbers/%2B15550007');
    await call('DELETE', '/v1/sip/trunks/evented');
    // A refused change reports nothing.
    await call('DELETE', '/v1/sip/trunks/evented');
    const events = await outbox.unackedAfter(from, 100_000);
    expect(events.map((e) => [e.event, e.callId, e.data])).toEqual([
      ['sip.trunk.created', null, { sip: { trunk: 'evented' } }],
      ['sip.trunk.updated', null, { sip: { trunk: 'evented' } }],
      ['sip.number.created', null, { sip: { number: '+15550007', appId: TEST_APP_ID } }],
      ['sip.app.updated', null, { sip: { appId: TEST_APP_ID, outboundTrunk: 'evented' } }],
      ['sip.app.updated', null, { sip: { appId: TEST_APP_ID, outboundTrunk: null } }],
      ['sip.number.deleted', null, { sip: { number: '+15550007', appId: TEST_APP_ID } }],
      ['sip.trunk.deleted', null, { sip: { trunk: 'evented' } }],
    ]);
    for (const secret of SECRETS) expect(JSON.stringify(events)).not.toContain(secret);
    // As the channel sends them: valid event messages of the published schema.
    for (const { event, eventId, seq, timestamp, data } of events) {
      const message = { type: 'event', event, eventId, seq, timestamp, data };
      expect(gatewayMessageSchema.safeParse(message).success, JSON.stringify(message)).toBe(true);
    }
  });
});
