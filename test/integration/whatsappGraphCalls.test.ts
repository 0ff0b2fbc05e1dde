import { dispose, type Room, RoomEvent } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { signatureOf } from '../../src/signalling/graph/webhookSignature.js';
import { api, callGatewayConfig, callsOf, callWhen, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import {
  joinRoomWithToken,
  nextAudioTrack,
  publishTone,
  recordAudio,
  watchCallStatus,
} from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { decodeRecording, probeRecording } from '../support/recordingFiles.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';
import { analyseTone } from '../support/tone.js';
import { ChromiumCaller } from '../support/whatsapp/chromiumCaller.js';
import { MetaGraphStandIn } from '../support/whatsapp/metaGraphStandIn.js';

/**
 * WhatsApp calling in Graph mode end to end: no SIP. Meta's Cloud API is a STAND-IN (it cannot be
 * reached from here) that signs and delivers the webhooks and takes the call actions; the WhatsApp
 * user's phone is a real Chromium, whose WebRTC stack (ICE, DTLS-SRTP, Opus, BUNDLE) talks to a
 * real media worker, bridged into a real livekit-server room. Audio is checked both ways.
 */
const PHONE_NUMBER_ID = '106540352242922';
const BUSINESS_NUMBER = '+15550197';
const ACCESS_TOKEN = 'EAAG-test-access-token';
const APP_SECRET = 'meta-app-secret-for-tests';
const VERIFY_TOKEN = 'verify-token-for-tests';
const DIALOG_PHONE_NUMBER_ID = '106540352242999';
const DIALOG_NUMBER = '+15550198';
const CALLER_TONE_HZ = 1000;
const AGENT_TONE_HZ = 440;

let engine: SipEngineProcess;
let rig: LiveKitRig;
let meta: MetaGraphStandIn;
let gw: RunningGateway;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  meta = await MetaGraphStandIn.start({ accessToken: ACCESS_TOKEN, appSecret: APP_SECRET });
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        // The business number also has a SIP side, for an app that switches to WhatsApp over SIP.
        trunks: [{ name: 'meta', kind: 'whatsapp', sourceAddresses: ['127.0.0.2/32'] }],
        whatsapp: {
          numbers: [
            {
              number: BUSINESS_NUMBER,
              appId: TEST_APP_ID,
              trunk: 'meta',
              sipHostname: 'sip.gw.test',
              password: 'meta-issued-sip-password',
            },
          ],
        },
      },
      whatsapp: {
        graph: {
          numbers: [
            {
              number: BUSINESS_NUMBER,
              appId: TEST_APP_ID,
              phoneNumberId: PHONE_NUMBER_ID,
              provider: 'meta',
              baseUrl: meta.graphUrl,
              accessToken: ACCESS_TOKEN,
              appSecret: APP_SECRET,
              verifyToken: VERIFY_TOKEN,
            },
            {
              number: DIALOG_NUMBER,
              appId: OTHER_APP_ID,
              phoneNumberId: DIALOG_PHONE_NUMBER_ID,
              provider: '360dialog',
              baseUrl: meta.url,
              accessToken: ACCESS_TOKEN,
              appSecret: APP_SECRET,
              verifyToken: VERIFY_TOKEN,
            },
          ],
        },
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true);
  for (const appId of [TEST_APP_ID, OTHER_APP_ID]) {
    await api(gw, `/v1/organization/apps/${appId}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ whatsappCallingEnabled: true, whatsappSipEnabled: false }),
    });
  }
  meta.settings.splice(0);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await gw?.stop();
  await dispose();
  await Promise.all([meta?.close(), engine?.stop(), rig?.server.stop()]);
});

let calls = 0;
function connectEvent(sdp: string, wacid = `wacid.test-${++calls}-${Date.now()}`) {
  return {
    id: wacid,
    from: '447700900123',
    to: '15550197',
    event: 'connect',
    timestamp: String(Math.floor(Date.now() / 1000)),
    direction: 'USER_INITIATED',
    session: { sdp_type: 'offer', sdp },
  };
}

async function agentIn(callId: string): Promise<Room> {
  const grant = await api(gw, `/v1/calls/${callId}/tokens`, {
    method: 'POST',
    body: '{"identity":"agent"}',
  });
  const room = await joinRoomWithToken(grant.url, grant.token);
  cleanup.push(() => room.disconnect());
  return room;
}

describe('WhatsApp Graph mode: user-initiated calls', () => {
  it('rings the app, pre_accepts and accepts through the provider, and talks both ways', async () => {
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const offer = await phone.offer();
    const event = connectEvent(offer);
    const delivered = await meta.webhook(gw.url, PHONE_NUMBER_ID, [event]);
    expect(delivered.status).toBe(200);
    expect(await delivered.json()).toEqual({ received: 1 });

    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');
    expect(ringing).toMatchObject({
      direction: 'inbound',
      fromChannel: 'whatsapp',
      fromAddress: '+447700900123',
      toAddress: BUSINESS_NUMBER,
      metadata: { trunk: 'whatsapp-graph', whatsapp: { wacid: event.id } },
    });
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).livekitRoomName !== null);
    const agent = await agentIn(ringing.id);
    const status = watchCallStatus(agent, `sip_${ringing.id}`);
    await status.until('ringing');
    const tone = await publishTone(agent, { frequencyHz: AGENT_TONE_HZ, amplitude: 0.3 });
    cleanup.push(() => tone.stop());

    // pre_accept: our answer goes to Meta, which hands it to the phone; media flows before the accept.
    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"pre_accept"}' });
    const preAccept = await meta.nextAction('pre_accept');
    expect(preAccept).toMatchObject({
      phoneNumberId: PHONE_NUMBER_ID,
      authorization: `Bearer ${ACCESS_TOKEN}`,
      body: { messaging_product: 'whatsapp', call_id: event.id, session: { sdp_type: 'answer' } },
    });
    const answer = preAccept.body.session?.sdp ?? '';
    expect(answer).toMatch(/a=fingerprint:sha-256 /);
    expect(answer).toMatch(/a=rtpmap:\d+ opus\/48000\/2/);
    await phone.answer(answer);
    await phone.connected();

    const accepted = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(accepted).toMatchObject({ status: 'in_progress', media: { encryption: 'dtls' } });
    const accept = await meta.nextAction('accept');
    expect(accept.body).toMatchObject({ call_id: event.id, session: { sdp_type: 'answer', sdp: answer } });
    await status.until('active');

    // The phone's tone in the room, the room's tone at the phone.
    await talksBothWays(phone, agent, ringing.id);
    // The WebRTC leg's quality, measured on the worker's receive side like a SIP leg's.
    const measured = (await callWhen(gw, ringing.id, (call) => call.quality !== null)).quality;
    console.info('WhatsApp Graph leg quality', measured);
    expect(measured.packetsReceived).toBeGreaterThan(0);
    expect(measured.packetLossRatio).toBeLessThan(0.05);

    // The phone's keypad: RFC 4733 in the WebRTC leg, LiveKit SIP DTMF in the room.
    const digits: string[] = [];
    const allDigits = new Promise<void>((resolve) =>
      agent.on(RoomEvent.DtmfReceived, (_code, digit) => {
        digits.push(digit);
        if (digits.length === 3) resolve();
      }),
    );
    await phone.sendDtmf('19#');
    await allDigits;
    expect(digits).toEqual(['1', '9', '#']);

    // Hung up by the app: terminate goes to Meta.
    await api(gw, `/v1/calls/${ringing.id}`, { method: 'PATCH', body: '{"status":"completed"}' });
    expect((await meta.nextAction('terminate')).body).toMatchObject({ call_id: event.id });
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({ endReason: 'api_hangup' });
    const kept = await callWhen(gw, ringing.id, (call) => call.quality?.updatedAt > measured.updatedAt);
    expect(kept.quality.packetsReceived).toBeGreaterThan(measured.packetsReceived);
    await status.until('hangup');
  });

  it('takes a webhook Meta delivers twice once, and a terminate before the accept is the caller giving up', async () => {
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const event = connectEvent(await phone.offer());
    for (let delivery = 0; delivery < 2; delivery++) {
      expect((await meta.webhook(gw.url, PHONE_NUMBER_ID, [event])).status).toBe(200);
    }
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');
    const terminate = { id: event.id, event: 'terminate', status: 'FAILED', timestamp: event.timestamp };
    expect((await meta.webhook(gw.url, PHONE_NUMBER_ID, [terminate])).status).toBe(200);
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'canceled');
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({ endReason: 'canceled' });
    expect((await meta.webhook(gw.url, PHONE_NUMBER_ID, [event, terminate])).status).toBe(200);
    expect(
      (await api(gw, `/v1/calls?appId=${TEST_APP_ID}&limit=100`)).data.filter(
        (c: any) => c.metadata.whatsapp?.wacid === event.id,
      ),
    ).toHaveLength(1);
    await until(async () => allMediaFreed());
  });

  it('ends an answered call on Meta’s terminate as caller_hangup and keeps Meta’s duration', async () => {
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const event = connectEvent(await phone.offer());
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [event]);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');
    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
    const accept = await meta.nextAction('accept');
    await phone.answer(accept.body.session?.sdp ?? '');
    await phone.connected();
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [
      { id: event.id, event: 'terminate', status: 'COMPLETED', duration: 42, timestamp: event.timestamp },
    ]);
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({
      endReason: 'caller_hangup',
      metadata: { whatsapp: { wacid: event.id, callDurationSeconds: 42 } },
    });
    // Meta ended it: nothing is sent back.
    expect(meta.actions.filter((a) => a.body.call_id === event.id)).toEqual([]);
    await until(async () => allMediaFreed());
  });

  it('rejects through the provider: a reject action, and an accept the provider refuses', async () => {
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const offer = await phone.offer();
    const first = connectEvent(offer);
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [first]);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');
    const rejected = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"reject","code":486}',
    });
    expect(rejected).toMatchObject({ status: 'busy' });
    expect((await meta.nextAction('reject')).body).toEqual({
      messaging_product: 'whatsapp',
      call_id: first.id,
      action: 'reject',
    });

    // Meta refuses the accept (the user hung up meanwhile, say): the call fails, and is rejected.
    const second = connectEvent(offer);
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [second]);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [again] = await callsOf(gw, 'ringing');
    meta.attempts.splice(0);
    meta.failNext = { status: 400, code: 138_009, message: 'Call is not in a state to accept' };
    const refused = await fetch(`${gw.url}/v1/calls/${again.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"accept"}',
    });
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(await refused.json())).toMatch(/Call is not in a state to accept/);
    expect((await meta.nextAction('reject')).body).toMatchObject({ call_id: second.id });
    // A 4xx is not retried: one accept went out.
    expect(meta.attempts.filter((a) => a === 'accept')).toHaveLength(1);
    expect(await api(gw, `/v1/calls/${again.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'provider_error',
      sipStatus: 400,
      sipReason: expect.stringContaining('Call is not in a state to accept'),
    });
    await until(async () => allMediaFreed());
  });

  it('retries an action the provider failed with a 5xx, and ends the call provider_error when it keeps failing', async () => {
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const offer = await phone.offer();
    const first = connectEvent(offer);
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [first]);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');
    meta.attempts.splice(0);
    meta.failTimes(1, { status: 503, code: 2, message: 'Service temporarily unavailable' });
    const accepted = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(accepted).toMatchObject({ status: 'in_progress' });
    expect(meta.attempts).toEqual(['accept', 'accept']);
    await meta.nextAction('accept');
    await api(gw, `/v1/calls/${ringing.id}`, { method: 'PATCH', body: '{"status":"completed"}' });
    await meta.nextAction('terminate');

    const second = connectEvent(offer);
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [second]);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [again] = await callsOf(gw, 'ringing');
    meta.attempts.splice(0);
    meta.failTimes(3, { status: 500, code: 1, message: 'An unknown error occurred' });
    const failed = await fetch(`${gw.url}/v1/calls/${again.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"accept"}',
    });
    expect(failed.status).toBe(502);
    expect(meta.attempts.filter((a) => a === 'accept')).toHaveLength(3);
    // The phone is not left ringing: the call is rejected at Meta.
    expect((await meta.nextAction('reject')).body).toMatchObject({ call_id: second.id });
    expect(await api(gw, `/v1/calls/${again.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'provider_error',
      sipStatus: 500,
    });
    await until(async () => allMediaFreed());
  });

  it('answers 409 to an action on a call Meta already ended, and creates nothing for a number no app has', async () => {
    const event = connectEvent('v=0\r\n');
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [event]);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');
    meta.attempts.splice(0);
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [{ id: event.id, event: 'terminate', status: 'FAILED' }]);
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).endedAt !== null);
    const late = await fetch(`${gw.url}/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"accept"}',
    });
    expect(late.status).toBe(409);
    expect(meta.attempts).toEqual([]);

    const stranger = connectEvent('v=0\r\n');
    expect((await meta.webhook(gw.url, '999999999', [stranger])).status).toBe(200);
    const after = await meta.webhook(gw.url, PHONE_NUMBER_ID, [{ id: 'wacid.unknown', event: 'terminate' }]);
    expect(after.status).toBe(200);
    const all = (await api(gw, '/v1/calls?limit=100')).data as any[];
    expect(all.filter((c) => c.metadata.whatsapp?.wacid === stranger.id)).toEqual([]);
  });

  it('answers a 360dialog number with its own path and D360-API-KEY', async () => {
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const event = connectEvent(await phone.offer());
    await meta.webhook(gw.url, DIALOG_PHONE_NUMBER_ID, [event]);
    const ringingOfOther = async () =>
      (await api(gw, `/v1/calls?appId=${OTHER_APP_ID}&status=ringing`)).data as any[];
    await until(async () => (await ringingOfOther()).length === 1);
    const [ringing] = await ringingOfOther();
    expect(ringing.toAddress).toBe(DIALOG_NUMBER);
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).livekitRoomName !== null);
    const agent = await agentIn(ringing.id);
    const tone = await publishTone(agent, { frequencyHz: AGENT_TONE_HZ, amplitude: 0.3 });
    cleanup.push(() => tone.stop());
    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
    const accept = await meta.nextAction('accept');
    expect(accept).toMatchObject({ phoneNumberId: '360dialog', authorization: ACCESS_TOKEN });
    await phone.answer(accept.body.session?.sdp ?? '');
    await phone.connected();
    await talksBothWays(phone, agent, ringing.id);
    await api(gw, `/v1/calls/${ringing.id}`, { method: 'PATCH', body: '{"status":"completed"}' });
    expect((await meta.nextAction('terminate')).body).toMatchObject({ call_id: event.id });
    await until(async () => allMediaFreed());
  });
});

describe('WhatsApp Graph mode: voicemail', () => {
  it('answers with the greeting, records the message from the phone and hangs up at the limit', async () => {
    const configured = await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({
        voicemailEnabled: true,
        defaultAnswerBehavior: 'voicemail',
        voicemailGreetingUrl: null,
        voicemailMaxDuration: 10,
        recordingFormat: 'ogg',
      }),
    });
    expect(configured).toMatchObject({ voicemailEnabled: true, defaultAnswerBehavior: 'voicemail' });
    cleanup.push(() =>
      api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
        method: 'PUT',
        body: JSON.stringify({ voicemailEnabled: false, defaultAnswerBehavior: 'webhook' }),
      }),
    );
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const event = connectEvent(await phone.offer());
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [event]);
    const accept = await meta.nextAction('accept');
    await phone.answer(accept.body.session?.sdp ?? '');
    await phone.connected();
    // The gateway ends the message at voicemailMaxDuration: terminate goes to Meta.
    expect((await meta.nextAction('terminate')).body).toMatchObject({ call_id: event.id });
    const [call] = (await callsOf(gw)).filter((c) => c.metadata.whatsapp?.wacid === event.id);
    let received: any;
    await until(async () => {
      received = (await gw.gateway.events.outbox.unackedAfter(0, 100_000)).find(
        (e) => e.callId === call.id && e.event === 'calls.voicemail.received',
      );
      return received !== undefined;
    }, 30_000);
    const recording = (received.data as any).recording;
    const info = await probeRecording(recording.path);
    expect(info.streams[0]?.codec_name).toBe('opus');
    expect(Number(info.format.duration)).toBeGreaterThan(9.5);
    const message = analyseTone((await decodeRecording(recording.path, 8000)).subarray(8000, 4 * 8000), 8000);
    expect(Math.abs(message.frequencyHz - CALLER_TONE_HZ)).toBeLessThanOrEqual(10);
    await until(async () => allMediaFreed());
  });
});

describe('the WhatsApp webhook endpoint', () => {
  it('answers Meta’s registration handshake for a configured verify token only', async () => {
    const url = `${gw.url}/v1/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444`;
    const ok = await fetch(`${url}&hub.verify_token=${VERIFY_TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('1158201444');
    expect((await fetch(`${url}&hub.verify_token=wrong-token-123`)).status).toBe(403);
    expect((await fetch(`${gw.url}/v1/whatsapp/webhook?hub.verify_token=${VERIFY_TOKEN}`)).status).toBe(403);
  });

  it('refuses a body whose signature is missing, forged or by another secret, and creates nothing', async () => {
    const event = connectEvent('v=0\r\n');
    const tries = [
      { signature: null },
      { signature: `sha256=${'0'.repeat(64)}` },
      { signature: 'sha1=abc' },
      { secret: 'some-other-app-secret' },
    ];
    for (const options of tries) {
      const response = await meta.webhook(gw.url, PHONE_NUMBER_ID, [event], options);
      expect(response.status, JSON.stringify(options)).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    }
    const garbage = await fetch(`${gw.url}/v1/whatsapp/webhook`, {
      method: 'POST',
      headers: { 'x-hub-signature-256': signatureOf('not json', APP_SECRET) },
      body: 'not json',
    });
    expect(garbage.status).toBe(400);
    expect(await callsOf(gw, 'ringing')).toHaveLength(0);
    expect(
      (await api(gw, `/v1/calls?appId=${TEST_APP_ID}&limit=100`)).data.filter(
        (c: any) => c.metadata.whatsapp?.wacid === event.id,
      ),
    ).toHaveLength(0);
  });

  it('refuses a Graph call for an app on WhatsApp SIP, by rejecting it at Meta', async () => {
    await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ whatsappSipEnabled: true }),
    });
    cleanup.push(() =>
      api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
        method: 'PUT',
        body: JSON.stringify({ whatsappSipEnabled: false }),
      }),
    );
    const event = connectEvent('v=0\r\n');
    expect((await meta.webhook(gw.url, PHONE_NUMBER_ID, [event])).status).toBe(200);
    expect((await meta.nextAction('reject')).body).toMatchObject({ call_id: event.id });
    expect(await callsOf(gw, 'ringing')).toHaveLength(0);
  });
});

/** The phone's tone is heard in the room, and the room's at the phone. */
async function talksBothWays(phone: ChromiumCaller, agent: Room, callId: string): Promise<void> {
  const track = await nextAudioTrack(agent, `sip_${callId}`);
  const inRoom = analyseTone(await recordAudio(track, { durationMs: 1000, settleMs: 300 }), 48_000);
  expect(Math.abs(inRoom.frequencyHz - CALLER_TONE_HZ)).toBeLessThanOrEqual(10);
  expect(inRoom.levelDbfs).toBeGreaterThan(-30);
  const atPhone = await phone.heard(1000);
  expect(Math.abs(atPhone.frequencyHz - AGENT_TONE_HZ)).toBeLessThanOrEqual(10);
  expect(atPhone.levelDbfs).toBeGreaterThan(-40);
}

/** No media session or port is left on any worker, and no WhatsApp leg is kept by its wacid. */
async function allMediaFreed(): Promise<boolean> {
  const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
  const media = statuses.every((status) => status.sessions === 0 && status.portsInUse === 0);
  return media && gw.gateway.graph.liveLegs === 0;
}

async function placeCall(
  body: Record<string, unknown>,
  key: string = KEYS.app,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${gw.url}/v1/calls`, {
    method: 'POST',
    headers: { ...bearer(key), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

describe('WhatsApp Graph mode: business-initiated calls', () => {
  const USER = '447700900777';

  it('needs the user’s call permission, then connects, rings, is accepted and talks both ways', async () => {
    const refused = await placeCall({ from: BUSINESS_NUMBER, to: `+${USER}`, toChannel: 'whatsapp' });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ error: { code: 'whatsapp_no_permission' } });
    expect(meta.actions.filter((a) => a.body.action === 'connect')).toEqual([]);
    meta.permitted.add(USER);
    cleanup.push(async () => meta.permitted.delete(USER));

    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const placed = await placeCall({ from: BUSINESS_NUMBER, to: `+${USER}`, toChannel: 'whatsapp' });
    expect(placed.status).toBe(201);
    const call = placed.json;
    const connect = await meta.nextAction('connect');
    expect(connect.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: USER,
      session: { sdp_type: 'offer' },
    });
    const wacid = connect.wacid ?? '';
    const answer = await phone.answerOffer(connect.body.session?.sdp ?? '');
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [
      {
        id: wacid,
        event: 'connect',
        direction: 'BUSINESS_INITIATED',
        session: { sdp_type: 'answer', sdp: answer },
      },
    ]);
    await meta.statusWebhook(gw.url, PHONE_NUMBER_ID, wacid, 'RINGING');
    await until(async () => (await api(gw, `/v1/calls/${call.id}`)).status === 'ringing');
    const agent = await agentIn(call.id);
    const tone = await publishTone(agent, { frequencyHz: AGENT_TONE_HZ, amplitude: 0.3 });
    cleanup.push(() => tone.stop());

    await meta.statusWebhook(gw.url, PHONE_NUMBER_ID, wacid, 'ACCEPTED');
    await until(async () => (await api(gw, `/v1/calls/${call.id}`)).status === 'in_progress');
    expect(await api(gw, `/v1/calls/${call.id}`)).toMatchObject({
      direction: 'outbound',
      toChannel: 'whatsapp',
      metadata: { whatsapp: { wacid } },
      media: { encryption: 'dtls' },
    });
    await phone.connected();
    await talksBothWays(phone, agent, call.id);

    // The callee hangs up.
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [
      { id: wacid, event: 'terminate', status: 'COMPLETED', duration: 7 },
    ]);
    await until(async () => (await api(gw, `/v1/calls/${call.id}`)).status === 'completed');
    expect(await api(gw, `/v1/calls/${call.id}`)).toMatchObject({
      endReason: 'callee_hangup',
      metadata: { whatsapp: { callDurationSeconds: 7 } },
    });
    await until(async () => allMediaFreed());
  });

  it('places a 360dialog call the same way: its permission and calls paths, audio both ways', async () => {
    meta.permitted.add(USER);
    cleanup.push(async () => meta.permitted.delete(USER));
    const phone = await ChromiumCaller.launch(CALLER_TONE_HZ, meta.clientPage);
    cleanup.push(() => phone.close());
    const placed = await placeCall(
      { from: DIALOG_NUMBER, to: `+${USER}`, toChannel: 'whatsapp' },
      KEYS.otherApp,
    );
    expect(placed.status).toBe(201);
    const connect = await meta.nextAction('connect');
    expect(connect).toMatchObject({ phoneNumberId: '360dialog', body: { to: USER } });
    const wacid = connect.wacid ?? '';
    const answer = await phone.answerOffer(connect.body.session?.sdp ?? '');
    await meta.webhook(gw.url, DIALOG_PHONE_NUMBER_ID, [
      {
        id: wacid,
        event: 'connect',
        direction: 'BUSINESS_INITIATED',
        session: { sdp_type: 'answer', sdp: answer },
      },
    ]);
    const agent = await agentIn(placed.json.id);
    const tone = await publishTone(agent, { frequencyHz: AGENT_TONE_HZ, amplitude: 0.3 });
    cleanup.push(() => tone.stop());
    await meta.statusWebhook(gw.url, DIALOG_PHONE_NUMBER_ID, wacid, 'ACCEPTED');
    await until(async () => (await api(gw, `/v1/calls/${placed.json.id}`)).status === 'in_progress');
    await phone.connected();
    await talksBothWays(phone, agent, placed.json.id);
    await api(gw, `/v1/calls/${placed.json.id}`, { method: 'PATCH', body: '{"status":"completed"}' });
    expect((await meta.nextAction('terminate')).body).toMatchObject({ call_id: wacid });
    await until(async () => allMediaFreed());
  });

  it('REJECTED ends the call declined; no answer in ringTimeoutSeconds terminates it', async () => {
    meta.permitted.add(USER);
    cleanup.push(async () => meta.permitted.delete(USER));
    const rejected = (await placeCall({ from: BUSINESS_NUMBER, to: `+${USER}`, toChannel: 'whatsapp' })).json;
    const first = await meta.nextAction('connect');
    await meta.statusWebhook(gw.url, PHONE_NUMBER_ID, first.wacid ?? '', 'REJECTED');
    await until(async () => (await api(gw, `/v1/calls/${rejected.id}`)).endedAt !== null);
    expect(await api(gw, `/v1/calls/${rejected.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'declined',
    });

    const unanswered = (
      await placeCall({ from: BUSINESS_NUMBER, to: `+${USER}`, toChannel: 'whatsapp', ringTimeoutSeconds: 1 })
    ).json;
    const second = await meta.nextAction('connect');
    expect((await meta.nextAction('terminate')).body).toMatchObject({ call_id: second.wacid });
    await until(async () => (await api(gw, `/v1/calls/${unanswered.id}`)).endedAt !== null);
    expect(await api(gw, `/v1/calls/${unanswered.id}`)).toMatchObject({
      status: 'no_answer',
      endReason: 'ring_timeout',
    });
    // Meta's terminate for it afterwards changes nothing.
    await meta.webhook(gw.url, PHONE_NUMBER_ID, [{ id: second.wacid, event: 'terminate', status: 'FAILED' }]);
    await until(async () => allMediaFreed());
    expect(
      meta.actions.filter((a) => a.body.action === 'terminate' && a.body.call_id === first.wacid),
    ).toEqual([]);

    // Meta's own refusal of the connect (138006: no permission after all) ends the call declined.
    meta.failNext = { status: 400, code: 138_006, message: 'Call permission not granted' };
    const refused = (await placeCall({ from: BUSINESS_NUMBER, to: `+${USER}`, toChannel: 'whatsapp' })).json;
    await until(async () => (await api(gw, `/v1/calls/${refused.id}`)).endedAt !== null);
    expect(await api(gw, `/v1/calls/${refused.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'declined',
      sipReason: 'whatsapp_no_permission',
    });
    await until(async () => allMediaFreed());
  });
});

describe('WhatsApp settings follow the calling configuration', () => {
  const calling = `/v1/organization/apps/${TEST_APP_ID}/calling`;
  async function put(body: Record<string, unknown>): Promise<{ status: number; json: any }> {
    const response = await fetch(`${gw.url}${calling}`, {
      method: 'PUT',
      headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: await response.json() };
  }

  it('pushes each of the app’s numbers its calling and SIP status before storing the change', async () => {
    meta.settings.splice(0);
    expect((await put({ whatsappSipEnabled: true })).status).toBe(200);
    // The number's SIP side (sip.whatsapp.numbers) names our SIP server and its keying.
    expect(meta.settings).toEqual([
      {
        phoneNumberId: PHONE_NUMBER_ID,
        body: {
          calling: {
            status: 'ENABLED',
            srtp_key_exchange_protocol: 'DTLS',
            sip: { status: 'ENABLED', servers: [{ hostname: 'sip.gw.test', port: 5061 }] },
          },
        },
      },
    ]);
    meta.settings.splice(0);
    expect((await put({ whatsappSipEnabled: false })).status).toBe(200);
    expect(
      meta.settings.map((s) => [s.phoneNumberId, s.body.calling.status, s.body.calling.sip.status]),
    ).toEqual([[PHONE_NUMBER_ID, 'ENABLED', 'DISABLED']]);
  });

  it('refuses SIP for a number with no SIP side, and pushes 360dialog numbers on their own path', async () => {
    meta.settings.splice(0);
    const other = `/v1/organization/apps/${OTHER_APP_ID}/calling`;
    const refused = await fetch(`${gw.url}${other}`, {
      method: 'PUT',
      headers: bearer(KEYS.admin),
      body: JSON.stringify({ whatsappSipEnabled: true }),
    });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: { code: 'whatsapp_not_configured' } });
    expect(meta.settings).toEqual([]);
    expect(await api(gw, other)).toMatchObject({ whatsappSipEnabled: false });
    await api(gw, other, { method: 'PUT', body: JSON.stringify({ whatsappCallingEnabled: false }) });
    await api(gw, other, { method: 'PUT', body: JSON.stringify({ whatsappCallingEnabled: true }) });
    expect(meta.settings.map((s) => [s.phoneNumberId, s.body.calling.status])).toEqual([
      ['360dialog', 'DISABLED'],
      ['360dialog', 'ENABLED'],
    ]);
  });

  it('leaves the configuration as it was when the provider refuses, naming the number', async () => {
    meta.failNext = { status: 400, code: 131_009, message: 'Parameter value is not valid' };
    const refused = await put({ whatsappCallingEnabled: false });
    expect(refused.status).toBe(502);
    expect(refused.json.error).toMatchObject({ code: 'provider_error' });
    expect(refused.json.error.message).toContain(BUSINESS_NUMBER);
    expect(refused.json.error.message).toContain('Parameter value is not valid');
    expect(await api(gw, calling)).toMatchObject({ whatsappCallingEnabled: true, whatsappSipEnabled: false });
    // A change that touches neither switch tells the provider nothing.
    meta.settings.splice(0);
    expect((await put({ maxConcurrentCalls: 50 })).status).toBe(200);
    expect(meta.settings).toEqual([]);
  });
});
