import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { livekitHttpUrl } from '../../src/livekit/livekitProbe.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { api, callGatewayConfig, callWhen, placeCall, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import {
  assertAllCallsSucceeded,
  runSipp,
  type SippResult,
  type SippServer,
  startSippServer,
} from '../support/sipp.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';

/**
 * Outbound PSTN calls end to end over real sockets: POST /v1/calls → the gateway's INVITE through
 * the embedded SIP server to sipp playing the trunk (one scenario per outcome), with a real
 * livekit-server for the call rooms and real media worker processes (the loopback stand-in
 * handler: real ports and SDP, no room audio; outboundAudio.test.ts checks the audio). Every call's
 * status, endReason, sipStatus and ordered events (one final event) are asserted, and every call
 * gives back its concurrency slot, media port and room.
 */
const CALLER = '+15550100';
const CALLEE = '+442071838750';
const TRUNK_USER = 'gateway-account';
const TRUNK_PASSWORD = 'trunk-password-0001';

let engine: SipEngineProcess;
let rig: LiveKitRig;
let plane: ControlPlane;
let gw: RunningGateway;
let rooms: RoomServiceClient;
/** The port sipp plays the trunk on: each test starts its scenario there, one at a time. */
let farPort: number;
let far: SippServer | undefined;

beforeAll(async () => {
  // One after the other: they pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  plane = await ControlPlane.start();
  farPort = await freeUdpPort();
  const outbound = { host: '127.0.0.1', port: farPort, transport: 'udp' };
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [
          { name: 'carrier', kind: 'pstn', sourceAddresses: ['127.0.0.1/32'], outbound },
          {
            name: 'secure',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: {
              ...outbound,
              username: TRUNK_USER,
              password: TRUNK_PASSWORD,
              fromDomain: 'carrier.test',
            },
          },
        ],
        apps: [
          { appId: TEST_APP_ID, outboundTrunk: 'carrier' },
          { appId: OTHER_APP_ID, outboundTrunk: 'secure' },
        ],
      },
      control: { url: plane.url, token: CONTROL_TOKEN },
    }),
    { mediaWorkerEntry: loopbackWorkerEntry() },
  );
  rooms = new RoomServiceClient(livekitHttpUrl(rig.url), rig.apiKey, rig.apiSecret);
  await until(async () => (await api(gw, '/readyz')).ready === true);
  await plane.waitForConnection(1);
});
afterEach(async () => {
  await far?.stop({ graceful: false });
  far = undefined;
});
afterAll(async () => {
  await gw?.stop();
  await plane?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

/** Starts `scenario` as the trunk's far end for one call. */
async function trunk(scenario: string, more: { keys?: Record<string, string>; pauseMs?: number } = {}) {
  far = await startSippServer({
    scenario,
    localPort: farPort,
    transport: 'u1',
    calls: 1,
    hardTimeoutMs: 60_000,
    ...more,
  });
  return far;
}

function place(body: Record<string, unknown>, key: string = KEYS.app) {
  return placeCall(gw, body, key);
}

async function placed(body: Record<string, unknown> = {}, key: string = KEYS.app): Promise<any> {
  const { status, json } = await place({ from: CALLER, to: CALLEE, ...body }, key);
  expect(status, JSON.stringify(json)).toBe(201);
  return json;
}

async function hangup(id: string, key: string = KEYS.app): Promise<{ status: number; json: any }> {
  const response = await fetch(`${gw.url}/v1/calls/${id}`, {
    method: 'PATCH',
    headers: bearer(key),
    body: JSON.stringify({ status: 'completed' }),
  });
  return { status: response.status, json: await response.json() };
}

const statusOf = (id: string, wanted: string) => callWhen(gw, id, (call) => call.status === wanted);
const ended = (id: string) => callWhen(gw, id, (call) => call.endedAt !== null);
const eventsOf = (id: string) => plane.callEvents(id);

/** Nothing of the call is left: its concurrency slot, ActiveCall entry and media port. */
async function released(): Promise<void> {
  await until(async () => {
    const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
    return (
      gw.gateway.calls.liveCount(TEST_APP_ID) === 0 &&
      gw.gateway.calls.liveCount(OTHER_APP_ID) === 0 &&
      gw.gateway.registry.size === 0 &&
      statuses.every((status) => status.portsInUse === 0 && status.sessions === 0)
    );
  });
}

/** Whether livekit-server still has the room (an unanswered call's is deleted as it ends). */
async function roomExists(name: string): Promise<boolean> {
  return (await rooms.listRooms([name])).length > 0;
}

function farResult(): Promise<SippResult> {
  if (!far) throw new Error('no far end');
  return far.exited;
}

describe('POST /v1/calls to the PSTN', () => {
  it('answers, bridges and ends on the callee’s BYE: callee_hangup, events in order', async () => {
    await trunk('uas-bye', { pauseMs: 1500 });
    const call = await placed({ metadata: { crm: 'case-42' } });
    expect(call).toMatchObject({
      direction: 'outbound',
      status: 'initiated',
      fromAddress: CALLER,
      toAddress: CALLEE,
      fromChannel: 'pstn',
      toChannel: 'pstn',
      metadata: { crm: 'case-42' },
      livekitRoomName: `call-${call.id}`,
      endReason: null,
    });
    const talking = await statusOf(call.id, 'in_progress');
    expect(talking.answeredAt).not.toBeNull();
    expect(gw.gateway.registry.size).toBe(1);
    assertAllCallsSucceeded(await farResult(), 1);
    const done = await ended(call.id);
    expect(done).toMatchObject({ status: 'completed', endReason: 'callee_hangup', sipStatus: null });
    expect(done.duration).toBeGreaterThanOrEqual(1);
    expect(await eventsOf(call.id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
    // Every event names the call's room, the first one too.
    const rooms = plane
      .distinctEvents()
      .filter((event) => event.data?.call?.id === call.id)
      .map((event) => event.data.call.livekitRoomName);
    expect(rooms).toEqual(Array(4).fill(`call-${call.id}`));
    await released();
  });

  it('presents the caller id in From and P-Asserted-Identity; a hangup by API while talking sends BYE', async () => {
    const sipp = await trunk('uas-caller-id', { keys: { caller: CALLER, callee: CALLEE } });
    const call = await placed();
    await statusOf(call.id, 'in_progress');
    const hung = await hangup(call.id);
    expect(hung.status).toBe(200);
    expect(hung.json).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    const result = await sipp.exited;
    assertAllCallsSucceeded(result, 1);
    expect(result.actionLog).toContain(`caller id: from ${CALLER} pai ${CALLER} to ${CALLEE} uri ${CALLEE}`);
    expect(await eventsOf(call.id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
    await released();
  });

  it.each([
    [486, 'busy', 'busy', 'calls.busy'],
    [603, 'failed', 'declined', 'calls.failed'],
    [480, 'no_answer', 'no_answer', 'calls.no_answer'],
    [408, 'no_answer', 'no_answer', 'calls.no_answer'],
    [503, 'failed', 'trunk_error', 'calls.failed'],
    [404, 'failed', 'trunk_error', 'calls.failed'],
  ])(
    'a %i from the trunk ends the call %s / %s with the code kept',
    async (code, status, endReason, event) => {
      await trunk(`uas-final-${code}`);
      const call = await placed();
      const done = await ended(call.id);
      expect(done).toMatchObject({ status, endReason, sipStatus: code, answeredAt: null, duration: 0 });
      assertAllCallsSucceeded(await farResult(), 1);
      expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', event]);
      // The SIP Call-ID of the INVITE is the call's external id, answered or not.
      expect((await api(gw, `/v1/calls/${call.id}/log`)).externalIds.sipCallId).toMatch(/\S/);
      await released();
      await until(async () => !(await roomExists(call.livekitRoomName)));
    },
  );

  it('cancels at the ring timeout: no_answer / ring_timeout, and the trunk sees the CANCEL', async () => {
    const sipp = await trunk('uas-ring-wait-cancel');
    const call = await placed({ ringTimeoutSeconds: 2 });
    await statusOf(call.id, 'ringing');
    const done = await ended(call.id);
    expect(done).toMatchObject({ status: 'no_answer', endReason: 'ring_timeout', sipStatus: null });
    const rangFor = Date.parse(done.endedAt) - Date.parse(done.startedAt);
    expect(rangFor).toBeGreaterThanOrEqual(2000);
    expect(rangFor).toBeLessThan(6000);
    assertAllCallsSucceeded(await sipp.exited, 1);
    expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', 'calls.no_answer']);
    await released();
    await until(async () => !(await roomExists(call.livekitRoomName)));
  });

  it('a hangup by API while ringing sends CANCEL: canceled / api_hangup', async () => {
    const sipp = await trunk('uas-ring-wait-cancel');
    const call = await placed();
    await statusOf(call.id, 'ringing');
    const hung = await hangup(call.id);
    expect(hung.status).toBe(200);
    expect(hung.json).toMatchObject({ status: 'canceled', endReason: 'api_hangup', sipStatus: null });
    assertAllCallsSucceeded(await sipp.exited, 1);
    expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', 'calls.canceled']);
    await released();
    // Once ended it stays so: a second hangup is a conflict.
    expect((await hangup(call.id)).status).toBe(409);
  });

  it('a hangup command on the event channel while ringing does the same', async () => {
    const sipp = await trunk('uas-ring-wait-cancel');
    const call = await placed();
    await statusOf(call.id, 'ringing');
    const after = plane.received.length;
    plane.send({ type: 'command', id: `hangup-${call.id}`, callId: call.id, action: 'hangup' });
    expect(await plane.nextMessage('result', after)).toMatchObject({
      ok: true,
      result: { id: call.id, status: 'canceled', endReason: 'api_hangup' },
    });
    assertAllCallsSucceeded(await sipp.exited, 1);
    expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', 'calls.canceled']);
    await released();
  });

  it('a 200 OK that crosses the CANCEL is ACKed and hung up; the call stays canceled', async () => {
    const sipp = await trunk('uas-answer-after-cancel');
    const call = await placed();
    await statusOf(call.id, 'ringing');
    expect((await hangup(call.id)).json).toMatchObject({ status: 'canceled', endReason: 'api_hangup' });
    assertAllCallsSucceeded(await sipp.exited, 1);
    expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', 'calls.canceled']);
    await released();
    expect(await api(gw, `/v1/calls/${call.id}`)).toMatchObject({ status: 'canceled', answeredAt: null });
  });

  it('a browser caller (fromChannel webrtc) has its room in the response and a token at once', async () => {
    const sipp = await trunk('uas-final-486');
    const call = await placed({ from: 'agent-1', fromChannel: 'webrtc' });
    expect(call).toMatchObject({
      fromChannel: 'webrtc',
      fromAddress: 'agent-1',
      livekitRoomName: `call-${call.id}`,
    });
    const grant = await fetch(`${gw.url}/v1/calls/${call.id}/tokens`, {
      method: 'POST',
      headers: bearer(KEYS.app),
      body: '{"identity":"agent-1"}',
    });
    expect(grant.status).toBe(200);
    expect(await grant.json()).toMatchObject({ roomName: call.livekitRoomName, identity: 'agent-1' });
    expect((await ended(call.id)).status).toBe('busy');
    assertAllCallsSucceeded(await sipp.exited, 1);
    await released();
  });

  it('maxDurationSeconds hangs up an answered call with max_duration', async () => {
    const sipp = await trunk('uas');
    const call = await placed({ maxDurationSeconds: 1 });
    const done = await ended(call.id);
    expect(done).toMatchObject({ status: 'completed', endReason: 'max_duration', duration: 1 });
    assertAllCallsSucceeded(await sipp.exited, 1);
    await released();
  });

  it.each([
    ['407 Proxy-Authenticate', 'uas-auth', { user: TRUNK_USER }],
    ['401 WWW-Authenticate, digest verified', 'uas-auth-www', { user: TRUNK_USER, pass: TRUNK_PASSWORD }],
  ])('answers the trunk’s %s with its credentials', async (_what, scenario, keys) => {
    const sipp = await trunk(scenario, { keys });
    const call = await placed({}, KEYS.otherApp);
    expect(call.id).toMatch(/^call_test_/);
    await statusOf(call.id, 'in_progress');
    expect((await hangup(call.id, KEYS.otherApp)).json).toMatchObject({
      status: 'completed',
      endReason: 'api_hangup',
    });
    assertAllCallsSucceeded(await sipp.exited, 1);
    expect(await eventsOf(call.id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
    await released();
  });
});

describe('POST /v1/calls refusals', () => {
  it.each([
    ['no to', { from: CALLER }, 'to'],
    ['a to without +', { from: CALLER, to: '442071838750' }, 'to'],
    ['a to starting with +0', { from: CALLER, to: '+0442071838750' }, 'to'],
    ['a to of 16 digits', { from: CALLER, to: '+1234567890123456' }, 'to'],
    [
      'a whatsapp to that is neither E.164 nor a BSUID',
      { from: CALLER, to: 'bob.smith', toChannel: 'whatsapp' },
      'to',
    ],
    ['a whatsapp to of 257 characters', { from: CALLER, to: 'a'.repeat(257), toChannel: 'whatsapp' }, 'to'],
    ['a pstn from that is not E.164', { from: 'alice', to: CALLEE }, 'from'],
    ['a webrtc to that is not an identity', { from: CALLER, to: 'sip_gateway', toChannel: 'webrtc' }, 'to'],
    ['an unknown channel', { from: CALLER, to: CALLEE, toChannel: 'sms' }, 'toChannel'],
    ['an unknown fromChannel', { from: CALLER, to: CALLEE, fromChannel: 'fax' }, 'fromChannel'],
    ['metadata that is a list', { from: CALLER, to: CALLEE, metadata: [1, 2] }, 'metadata'],
    ['metadata over 4 KiB', { from: CALLER, to: CALLEE, metadata: { note: 'x'.repeat(4100) } }, 'metadata'],
    ['a ring timeout of 0', { from: CALLER, to: CALLEE, ringTimeoutSeconds: 0 }, 'ringTimeoutSeconds'],
    ['a max duration of 1.5 s', { from: CALLER, to: CALLEE, maxDurationSeconds: 1.5 }, 'maxDurationSeconds'],
    ['an unknown field', { from: CALLER, to: CALLEE, priority: 'high' }, 'priority'],
  ])('%s → 400 naming the field', async (_what, body, field) => {
    const { status, json } = await place(body);
    expect(status).toBe(400);
    expect(json.error.code).toBe('invalid_request');
    expect(json.error.details.map((d: any) => d.field)).toContain(field);
  });

  it('is in the OpenAPI document: app keys only, the CallCreate body, its refusals', async () => {
    const doc = await api(gw, '/openapi.json');
    const create = doc.paths['/v1/calls'].post;
    expect(create['x-access']).toBe('appKey');
    expect(create.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CallCreate',
    );
    expect(Object.keys(create.responses).sort()).toEqual(
      ['201', '400', '401', '403', '413', '422', '429', '502', '503'].sort(),
    );
    const body = doc.components.schemas.CallCreate;
    expect(body.required).toEqual(expect.arrayContaining(['from', 'to']));
    expect(body.properties.toChannel.enum).toEqual(['pstn', 'whatsapp', 'webrtc']);
  });

  it('toChannel whatsapp for an app without WhatsApp → 422 whatsapp_not_enabled naming the setting, and no call', async () => {
    const before = (await api(gw, `/v1/calls?appId=${TEST_APP_ID}&limit=100`)).data.length;
    const { status, json } = await place({ from: CALLER, to: CALLEE, toChannel: 'whatsapp' });
    expect(status).toBe(422);
    expect(json.error).toMatchObject({ code: 'whatsapp_not_enabled' });
    expect(json.error.message).toMatch(/whatsappCallingEnabled/);
    expect((await api(gw, `/v1/calls?appId=${TEST_APP_ID}&limit=100`)).data).toHaveLength(before);
  });

  it.each([
    ['an admin', 403, KEYS.admin],
    ['a metrics', 403, KEYS.metrics],
    ['no', 401, ''],
  ])('a call placed with %s key → %i', async (_what, expected, key) => {
    const { status } = await place({ from: CALLER, to: CALLEE }, key);
    expect(status).toBe(expected);
  });

  it('counts live calls of both directions against maxConcurrentCalls: 429 concurrency_limit, freed at the end', async () => {
    const calling = `/v1/organization/apps/${TEST_APP_ID}/calling`;
    await api(gw, calling, { method: 'PUT', body: JSON.stringify({ maxConcurrentCalls: 1 }) });
    try {
      const sipp = await trunk('uas-ring-wait-cancel');
      const first = await placed();
      await statusOf(first.id, 'ringing');
      const refused = await place({ from: CALLER, to: CALLEE });
      expect(refused.status).toBe(429);
      expect(refused.json.error.code).toBe('concurrency_limit');
      // The outbound call holds the app's one slot for inbound calls too.
      const inbound = await runSipp({
        scenario: 'uac-expect-final',
        target: { host: '127.0.0.1', port: engine.sipPort },
        transport: 'u1',
        service: ROUTED_NUMBER,
        keys: { expected: 486 },
        calls: 1,
      });
      assertAllCallsSucceeded(inbound, 1);
      await hangup(first.id);
      assertAllCallsSucceeded(await sipp.exited, 1);
      await released();
      await trunk('uas-final-486');
      const next = await placed();
      expect((await ended(next.id)).status).toBe('busy');
      await released();
    } finally {
      await api(gw, calling, { method: 'PUT', body: JSON.stringify({ maxConcurrentCalls: 100 }) });
    }
  });
});
