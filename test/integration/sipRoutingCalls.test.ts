import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { api, callGatewayConfig, callWhen, placeCall, theRingingCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, formatSippResult, runSipp, startSippServer } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * The routing API applied at once, over real sockets: a gateway that starts with no trunk and no
 * number is given them by API, and sipp's calls (through the embedded SIP server) follow each
 * change without a restart; an outbound trunk made by API takes the app's POST /v1/calls to sipp.
 */
const NUMBER = '+15550177';
let engine: SipEngineProcess;

beforeAll(async () => {
  engine = await startSipEngine();
});
afterAll(async () => {
  await engine?.stop();
});

async function admin(gw: RunningGateway, method: string, path: string, body?: unknown) {
  const response = await fetch(`${gw.url}${path}`, {
    method,
    headers: { ...bearer(KEYS.admin), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

function expectFinal(expected: number) {
  return runSipp({
    scenario: 'uac-expect-final',
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: NUMBER,
    keys: { expected },
    calls: 1,
  });
}

describe('inbound routing by API', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startInProcessGateway(
      callGatewayConfig(engine, undefined, { sip: { trunks: [], numbers: [], ringTimeoutSeconds: 30 } }),
    );
    await until(async () => (await api(gw, '/readyz')).parts.sip.ok === true);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('takes calls for a trunk and number made by API, and follows their changes at once', async () => {
    // Nothing routes yet: no trunk lists 127.0.0.1.
    assertAllCallsSucceeded(await expectFinal(403), 1);

    expect(
      (
        await admin(gw, 'POST', '/v1/sip/trunks', {
          name: 'api-local',
          kind: 'pstn',
          sourceAddresses: ['127.0.0.1/32'],
        })
      ).status,
    ).toBe(201);
    // A trunk and no number: 404, as for any number no app takes.
    assertAllCallsSucceeded(await expectFinal(404), 1);
    const number = await admin(gw, 'POST', '/v1/sip/numbers', {
      number: NUMBER,
      appId: TEST_APP_ID,
      trunk: 'api-local',
    });
    expect(number.status).toBe(201);
    expect((await admin(gw, 'POST', '/v1/sip/numbers', { number: NUMBER, appId: TEST_APP_ID })).status).toBe(
      409,
    );

    // The app's call rings; the app rejects it through the actions API.
    const caller = expectFinal(486);
    const ringing = await theRingingCall(gw);
    expect(ringing).toMatchObject({
      appId: TEST_APP_ID,
      toAddress: NUMBER,
      status: 'ringing',
      metadata: { trunk: 'api-local' },
    });
    const rejected = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'reject', code: 486 }),
    });
    expect(rejected).toMatchObject({ status: 'busy', sipStatus: 486 });
    assertAllCallsSucceeded(await caller, 1);

    // The number deleted: the next call is refused as for an unknown number.
    expect((await admin(gw, 'DELETE', `/v1/sip/numbers/${encodeURIComponent(NUMBER)}`)).status).toBe(204);
    assertAllCallsSucceeded(await expectFinal(404), 1);

    // Routed again, then the trunk moves to other addresses: calls from the old one are refused.
    expect(
      (await admin(gw, 'POST', '/v1/sip/numbers', { number: NUMBER, appId: TEST_APP_ID, trunk: 'api-local' }))
        .status,
    ).toBe(201);
    const moved = await admin(gw, 'PATCH', '/v1/sip/trunks/api-local', { sourceAddresses: ['192.0.2.0/24'] });
    expect(moved.status).toBe(200);
    assertAllCallsSucceeded(await expectFinal(403), 1);
    expect(gw.gateway.calls.liveCount(TEST_APP_ID)).toBe(0);
    expect((await admin(gw, 'DELETE', `/v1/sip/numbers/${encodeURIComponent(NUMBER)}`)).status).toBe(204);
    expect((await admin(gw, 'DELETE', '/v1/sip/trunks/api-local')).status).toBe(204);
  });

  it('lets a call through a trunk deleted while it rings go on to its end', async () => {
    await admin(gw, 'POST', '/v1/sip/trunks', {
      name: 'doomed',
      kind: 'pstn',
      sourceAddresses: ['127.0.0.1'],
    });
    await admin(gw, 'POST', '/v1/sip/numbers', { number: NUMBER, appId: TEST_APP_ID });
    const caller = expectFinal(486);
    const ringing = await theRingingCall(gw);
    expect((await admin(gw, 'DELETE', '/v1/sip/trunks/doomed')).status).toBe(204);
    // The ringing call still takes its actions and ends as asked.
    const rejected = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'reject', code: 486 }),
    });
    expect(rejected).toMatchObject({ status: 'busy', sipStatus: 486, metadata: { trunk: 'doomed' } });
    assertAllCallsSucceeded(await caller, 1);
    // The next call finds no trunk.
    assertAllCallsSucceeded(await expectFinal(403), 1);
    await admin(gw, 'DELETE', `/v1/sip/numbers/${encodeURIComponent(NUMBER)}`);
  });
});

describe('outbound routing by API', () => {
  let gw: RunningGateway;
  let rig: LiveKitRig;
  beforeAll(async () => {
    rig = await startLiveKit();
    gw = await startInProcessGateway(callGatewayConfig(engine, rig, { sip: { trunks: [], numbers: [] } }), {
      mediaWorkerEntry: loopbackWorkerEntry(),
    });
    await until(async () => (await api(gw, '/readyz')).ready === true);
  });
  afterAll(async () => {
    await gw?.stop();
    await rig?.server.stop();
  });

  it("dials the app's PSTN calls through the outbound trunk it was given by API", async () => {
    const body = { from: '+15550100', to: '+442071838750' };
    const before = await placeCall(gw, body, KEYS.app);
    expect(before.status).toBe(422);

    const farPort = await freeUdpPort();
    const created = await admin(gw, 'POST', '/v1/sip/trunks', {
      name: 'api-out',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.1'],
      outbound: {
        host: '127.0.0.1',
        port: farPort,
        transport: 'udp',
        username: 'acct',
        password: 'trunk-password-77',
      },
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.json)).not.toContain('trunk-password-77');
    expect(
      (await admin(gw, 'PATCH', `/v1/organization/apps/${TEST_APP_ID}/sip`, { outboundTrunk: 'api-out' }))
        .status,
    ).toBe(200);

    const far = await startSippServer({
      scenario: 'uas-final-486',
      localPort: farPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const placed = await placeCall(gw, body, KEYS.app);
    expect(placed.status, JSON.stringify(placed.json)).toBe(201);
    const done = await callWhen(gw, placed.json.id, (call) => call.endedAt !== null);
    // sipp at the trunk's destination answered the INVITE 486.
    expect(done).toMatchObject({ status: 'busy', sipStatus: 486 });
    assertAllCallsSucceeded(await far.exited, 1);

    // The trunk is in use by the app: not deleted under it; once the app moves off, it goes.
    expect((await admin(gw, 'DELETE', '/v1/sip/trunks/api-out')).status).toBe(409);
    await admin(gw, 'PATCH', `/v1/organization/apps/${TEST_APP_ID}/sip`, { outboundTrunk: null });
    expect((await admin(gw, 'DELETE', '/v1/sip/trunks/api-out')).status).toBe(204);
    expect((await placeCall(gw, body, KEYS.app)).status).toBe(422);
  });
});

describe('registration by API', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startInProcessGateway(
      callGatewayConfig(engine, undefined, { sip: { trunks: [], numbers: [] } }),
      {
        registrationTiming: {
          refreshFloorMs: 300,
          retryInitialMs: 500,
          retryMaxMs: 2_000,
          responseTimeoutMs: 1_500,
        },
      },
    );
    await until(async () => (await api(gw, '/readyz')).parts.sip.ok === true);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('registers a trunk made by API at once, and un-REGISTERs it when the trunk is deleted', async () => {
    // 423 Min-Expires, the REGISTER asking for it, then the un-REGISTER (Expires: 0): sipp ends
    // its scenario only when all three came.
    const registrar = await startSippServer({
      scenario: 'registrar-unregister',
      transport: 'u1',
      calls: 1,
      keys: { min: 7200 },
      hardTimeoutMs: 60_000,
    });
    const created = await admin(gw, 'POST', '/v1/sip/trunks', {
      name: 'registering',
      kind: 'pstn',
      sourceAddresses: ['192.0.2.9'],
      outbound: { host: '127.0.0.1', port: registrar.port, transport: 'udp' },
      registration: { username: 'gateway', password: 'registrar-secret-9' },
    });
    expect(created.status).toBe(201);
    let trunk: any;
    await until(async () => {
      trunk = (await admin(gw, 'GET', '/v1/sip/trunks/registering')).json;
      return trunk.registration?.state === 'registered';
    });
    expect(trunk.registration).toMatchObject({ username: 'gateway', hasPassword: true, lastError: null });
    expect(Date.parse(trunk.registration.expiresAt) - Date.now()).toBeGreaterThan(7_100_000);
    expect(JSON.stringify(trunk)).not.toContain('registrar-secret-9');

    expect((await admin(gw, 'DELETE', '/v1/sip/trunks/registering')).status).toBe(204);
    const result = await registrar.exited;
    assertAllCallsSucceeded(result, 1);
    expect(result.messageLog, formatSippResult(result)).toMatch(/Expires:\s*0\b/i);
    expect((await admin(gw, 'GET', '/v1/sip/trunks/registering/registration')).status).toBe(404);
  });
});
