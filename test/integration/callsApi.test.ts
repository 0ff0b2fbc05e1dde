import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewCall } from '../../src/calls/callServiceTypes.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';

let running: RunningGateway;
const mine: string[] = [];
let theirs: string;

const base: NewCall = {
  appId: TEST_APP_ID,
  direction: 'inbound',
  fromAddress: '+15550100',
  toAddress: '+15550199',
  fromChannel: 'pstn',
  toChannel: 'webrtc',
};

beforeAll(async () => {
  running = await startInProcessGateway();
  // Calls are made through the call service, as the SIP layer makes them.
  for (let i = 0; i < 5; i++) {
    const call = running.gateway.calls.create({ ...base, direction: i % 2 ? 'outbound' : 'inbound' });
    mine.push(call.id);
  }
  running.gateway.calls.transition(mine[0] as string, { to: 'canceled', endReason: 'canceled' });
  theirs = running.gateway.calls.create({ ...base, appId: OTHER_APP_ID }).id;
});
afterAll(async () => {
  await running.stop();
});

async function get(path: string, key: string = KEYS.app): Promise<{ status: number; json: any }> {
  const response = await fetch(`${running.url}${path}`, { headers: bearer(key) });
  return { status: response.status, json: await response.json() };
}

describe('GET /v1/calls/{id}', () => {
  it("returns the app's own call", async () => {
    const { status, json } = await get(`/v1/calls/${mine[0]}`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      id: mine[0],
      appId: TEST_APP_ID,
      status: 'canceled',
      endReason: 'canceled',
    });
  });

  it("answers 404 for another app's call, so ids elsewhere stay unknown", async () => {
    expect((await get(`/v1/calls/${theirs}`)).status).toBe(404);
    expect((await get(`/v1/calls/${theirs}`, KEYS.admin)).status).toBe(200);
  });

  it('answers 400 naming id for a malformed id, and 403 for a metrics key', async () => {
    const { status, json } = await get('/v1/calls/call_nope');
    expect(status).toBe(400);
    expect(json.error.details[0].field).toBe('id');
    expect((await get(`/v1/calls/${mine[0]}`, KEYS.metrics)).status).toBe(403);
  });
});

describe('GET /v1/calls', () => {
  it('lists only the key’s app, newest first, in pages', async () => {
    const first = await get('/v1/calls?limit=2');
    expect(first.status).toBe(200);
    expect(first.json.hasMore).toBe(true);
    const second = await get(`/v1/calls?limit=2&startingAfter=${first.json.data[1].id}`);
    const third = await get(`/v1/calls?limit=2&startingAfter=${second.json.data[1].id}`);
    expect(third.json.hasMore).toBe(false);
    const ids = [...first.json.data, ...second.json.data, ...third.json.data].map((c: any) => c.id);
    expect(ids).toEqual([...mine].reverse());
  });

  it('filters by status and direction', async () => {
    expect((await get('/v1/calls?status=canceled')).json.data.map((c: any) => c.id)).toEqual([mine[0]]);
    expect((await get('/v1/calls?direction=outbound')).json.data).toHaveLength(2);
  });

  it('lets admin keys list any app and app keys only their own', async () => {
    expect(
      (await get(`/v1/calls?appId=${OTHER_APP_ID}`, KEYS.admin)).json.data.map((c: any) => c.id),
    ).toEqual([theirs]);
    expect((await get(`/v1/calls?appId=${OTHER_APP_ID}`)).status).toBe(403);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['status=ringingish', 'status'],
    ['direction=sideways', 'direction'],
    ['channel=fax', 'channel'],
    ['createdFrom=yesterday', 'createdFrom'],
    ['startingAfter=call_x', 'startingAfter'],
    ['colour=blue', 'colour'],
  ])('refuses %s naming %s', async (query, field) => {
    const { status, json } = await get(`/v1/calls?${query}`);
    expect(status).toBe(400);
    expect(json.error.details.map((d: any) => d.field)).toEqual([field]);
  });
});

describe('POST /v1/calls/{id}/tokens', () => {
  async function post(
    id: string,
    body: unknown,
    key: string = KEYS.app,
  ): Promise<{ status: number; json: any }> {
    const response = await fetch(`${running.url}/v1/calls/${id}/tokens`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  it('is refused while the call has no room, for another app, and for a bad identity', async () => {
    expect((await post(mine[1] as string, { identity: 'agent-1' })).status).toBe(409);
    expect((await post(theirs, { identity: 'agent-1' })).status).toBe(404);
    const bad = await post(mine[1] as string, { identity: 'sip_spoof' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: any) => d.field)).toEqual(['identity']);
  });

  it('mints a token for the room of a call that has one', async () => {
    running.gateway.calls.attachRoom(mine[2] as string, `call-${mine[2]}`);
    const { status, json } = await post(mine[2] as string, { identity: 'agent-1', ttlSeconds: 120 });
    expect(status).toBe(200);
    expect(json).toMatchObject({ roomName: `call-${mine[2]}`, identity: 'agent-1' });
    const claims = JSON.parse(Buffer.from(json.token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'agent-1', video: { room: `call-${mine[2]}`, roomJoin: true } });
    expect(claims.exp - claims.nbf).toBe(120);
  });
});

describe('channel and time filters', () => {
  it('finds calls by either side’s channel and by creation time', async () => {
    const before = new Date(Date.now() - 1).toISOString();
    const whatsapp = running.gateway.calls.create({ ...base, fromChannel: 'whatsapp' }).id;
    const ids = async (query: string) =>
      (await get(`/v1/calls?${query}`)).json.data.map((c: any) => c.id) as string[];
    expect(await ids('channel=whatsapp')).toEqual([whatsapp]);
    expect(await ids('channel=webrtc')).toContain(whatsapp);
    expect(await ids(`createdFrom=${encodeURIComponent(before)}`)).toEqual([whatsapp]);
    expect(await ids(`createdBefore=${encodeURIComponent(before)}`)).not.toContain(whatsapp);
    // Offsets other than Z mean the same instant.
    const sameInstant = before.replace('Z', '+00:00');
    expect(await ids(`createdFrom=${encodeURIComponent(sameInstant)}`)).toEqual([whatsapp]);
  });
});

describe('GET /v1/calls/{id}/log', () => {
  const log = async (id: string) => (await get(`/v1/calls/${id}/log`)).json;
  const calls = () => running.gateway.calls;

  it('maps each outcome to the CRM status, with the SIP Call-ID and who answered', async () => {
    const staff = calls().create({ ...base, sipCallId: 'abc@198.51.100.7' }).id;
    expect(await log(staff)).toMatchObject({ status: 'INCOMING_CALL', direction: 'INBOUND' });
    calls().transition(staff, { to: 'ringing' });
    calls().transition(staff, { to: 'in_progress' });
    calls().participant(staff, 'joined', 'sip_call_other_leg');
    calls().participant(staff, 'joined', 'agent-7');
    calls().participant(staff, 'joined', 'agent-8');
    calls().transition(staff, { to: 'completed', endReason: 'caller_hangup' });
    expect(await log(staff)).toMatchObject({
      callId: staff,
      status: 'ANSWERED_BY_STAFF',
      from: '+15550100',
      to: '+15550199',
      answeredBy: 'agent-7',
      endReason: 'caller_hangup',
      externalIds: { sipCallId: 'abc@198.51.100.7' },
    });

    const flowOnly = calls().create({ ...base, direction: 'outbound' }).id;
    calls().transition(flowOnly, { to: 'in_progress' });
    calls().transition(flowOnly, { to: 'completed', endReason: 'api_hangup' });
    expect(await log(flowOnly)).toMatchObject({
      status: 'ANSWERED_BY_CALLS_PROVIDER',
      direction: 'OUTBOUND',
    });

    const missed = calls().create(base).id;
    calls().transition(missed, { to: 'ringing' });
    calls().transition(missed, { to: 'no_answer', endReason: 'ring_timeout' });
    expect(await log(missed)).toMatchObject({ status: 'MISSED', answeredBy: null, duration: 0 });

    const voicemail = calls().create(base).id;
    calls().transition(voicemail, { to: 'voicemail' });
    calls().transition(voicemail, { to: 'completed', endReason: 'caller_hangup' });
    expect(await log(voicemail)).toMatchObject({ status: 'VOICEMAIL_RECEIVED' });
  });

  it("is 404 for another app's call", async () => {
    expect((await get(`/v1/calls/${theirs}/log`)).status).toBe(404);
  });
});
