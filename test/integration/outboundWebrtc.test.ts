import { dispose, type Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { livekitHttpUrl } from '../../src/livekit/livekitProbe.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { api, callGatewayConfig, callWhen, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { joinRoomWithToken } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * Outbound calls to browsers (toChannel webrtc): no SIP leg; the call rings until a participant
 * other than the gateway and the caller joins its room with a token from the API, against a real
 * livekit-server. The gateway here has no outbound trunk, so PSTN calls are refused with 422.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let plane: ControlPlane;
let gw: RunningGateway;
let rooms: RoomServiceClient;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  plane = await ControlPlane.start();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, { control: { url: plane.url, token: CONTROL_TOKEN } }),
    { mediaWorkerEntry: loopbackWorkerEntry() },
  );
  rooms = new RoomServiceClient(livekitHttpUrl(rig.url), rig.apiKey, rig.apiSecret);
  await until(async () => (await api(gw, '/readyz')).ready === true);
  await plane.waitForConnection(1);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await gw?.stop();
  await plane?.stop();
  await dispose();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

async function toBrowser(body: Record<string, unknown> = {}): Promise<any> {
  const { status, json } = await placeCall(gw, {
    from: '+15550100',
    to: 'agent-7',
    toChannel: 'webrtc',
    ...body,
  });
  expect(status, JSON.stringify(json)).toBe(201);
  return json;
}

const statusOf = (id: string, wanted: string) => callWhen(gw, id, (call) => call.status === wanted);
const eventsOf = (id: string) => plane.callEvents(id);

/** Joins the call's room as `identity` with a token from POST /v1/calls/{id}/tokens. */
async function join(callId: string, identity: string): Promise<Room> {
  const grant = await api(gw, `/v1/calls/${callId}/tokens`, {
    method: 'POST',
    headers: bearer(KEYS.app),
    body: JSON.stringify({ identity }),
  });
  expect(grant.roomName).toBe(`call-${callId}`);
  const room = await joinRoomWithToken(grant.url, grant.token);
  cleanup.push(() => room.disconnect());
  return room;
}

async function released(roomName: string): Promise<void> {
  await until(async () => gw.gateway.calls.liveCount(TEST_APP_ID) === 0 && gw.gateway.registry.size === 0);
  await until(async () => (await rooms.listRooms([roomName])).length === 0);
}

describe('POST /v1/calls to a browser (toChannel webrtc)', () => {
  it('rings until the callee joins with a token, then is in progress until the callee leaves', async () => {
    const call = await toBrowser();
    expect(call).toMatchObject({
      status: 'initiated',
      toChannel: 'webrtc',
      livekitRoomName: `call-${call.id}`,
    });
    await statusOf(call.id, 'ringing');
    // Nobody joined: still ringing a while later.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await api(gw, `/v1/calls/${call.id}`)).status).toBe('ringing');
    const callee = await join(call.id, 'agent-7');
    const talking = await statusOf(call.id, 'in_progress');
    expect(talking.answeredAt).not.toBeNull();
    await callee.disconnect();
    const done = await statusOf(call.id, 'completed');
    expect(done).toMatchObject({ endReason: 'callee_hangup', sipStatus: null });
    expect(await eventsOf(call.id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
    await released(call.livekitRoomName);
  });

  it('a webrtc caller in the room does not answer it; the callee does', async () => {
    const call = await toBrowser({ from: 'alice', fromChannel: 'webrtc', to: 'bob' });
    await statusOf(call.id, 'ringing');
    await join(call.id, 'alice');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await api(gw, `/v1/calls/${call.id}`)).status).toBe('ringing');
    await join(call.id, 'bob');
    await statusOf(call.id, 'in_progress');
    // A hangup while talking ends it and the room with everyone in it.
    const hung = await api(gw, `/v1/calls/${call.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.app),
      body: '{"status":"completed"}',
    });
    expect(hung).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(await eventsOf(call.id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
    await released(call.livekitRoomName);
  });

  it('its room deleted while talking: completed / room_closed', async () => {
    const call = await toBrowser();
    await statusOf(call.id, 'ringing');
    await join(call.id, 'agent-7');
    await statusOf(call.id, 'in_progress');
    await rooms.deleteRoom(call.livekitRoomName);
    expect(await statusOf(call.id, 'completed')).toMatchObject({ endReason: 'room_closed' });
    await released(call.livekitRoomName);
  });

  it('unanswered by the ring timeout: no_answer / ring_timeout', async () => {
    const call = await toBrowser({ ringTimeoutSeconds: 1 });
    const done = await statusOf(call.id, 'no_answer');
    expect(done).toMatchObject({ endReason: 'ring_timeout', answeredAt: null });
    expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', 'calls.no_answer']);
    await released(call.livekitRoomName);
  });

  it('a hangup by API while ringing: canceled / api_hangup', async () => {
    const call = await toBrowser();
    await statusOf(call.id, 'ringing');
    const hung = await api(gw, `/v1/calls/${call.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.app),
      body: '{"status":"completed"}',
    });
    expect(hung).toMatchObject({ status: 'canceled', endReason: 'api_hangup' });
    expect(await eventsOf(call.id)).toEqual(['calls.initiated', 'calls.ringing', 'calls.canceled']);
    await released(call.livekitRoomName);
  });

  it('maxDurationSeconds ends an answered call with max_duration', async () => {
    const call = await toBrowser({ maxDurationSeconds: 1 });
    await statusOf(call.id, 'ringing');
    await join(call.id, 'agent-7');
    await statusOf(call.id, 'in_progress');
    const done = await statusOf(call.id, 'completed');
    expect(done).toMatchObject({ endReason: 'max_duration', duration: 1 });
    await released(call.livekitRoomName);
  });
});

describe('POST /v1/calls for an app without an outbound trunk', () => {
  it('a PSTN call → 422 no_outbound_trunk, naming the config', async () => {
    const { status, json } = await placeCall(gw, { from: '+15550100', to: '+442071838750' });
    expect(status).toBe(422);
    expect(json.error.code).toBe('no_outbound_trunk');
    expect(json.error.message).toMatch(/sip\.apps/);
  });
});
