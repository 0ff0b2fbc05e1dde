import { dispose, type Room, RoomEvent } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { Baresip } from '../support/baresip.js';
import {
  type BaresipAudioRig,
  checkAudioBothWays,
  checkBaresipHeardTheRoom,
  participantAttributes,
} from '../support/baresipAudio.js';
import { api, callGatewayConfig, callWhen, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { joinRoom, nextAudioTrack } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { testCertificate } from '../support/testCertificate.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';
import { WhatsAppSipEdge } from '../support/whatsappSipEdge.js';

/**
 * WhatsApp calls over SIP end to end, both directions, both keyings: the gateway ⇄ (TLS) a
 * stand-in for Meta's SIP edge ⇄ (UDP) baresip as the WhatsApp user's phone, Opus, and media
 * straight between the gateway and baresip: DTLS-SRTP over ICE for one business number, SDES for
 * the other. The room participant and the phone hear each other's tones; the edge saw no request
 * Meta refuses (re-INVITE, INFO, UPDATE); Meta's headers reach the call and the participant.
 */
const PHONE_TONE_HZ = 1000;
const ROOM_TONE_HZ = 440;
const WHATSAPP_USER = '+447700900123';
const PASSWORD = 'meta-issued-sip-password';
const KEYINGS = [
  // The DTLS caller is a phone number, the SDES one a BSUID; the app hangs up the DTLS call, the phone the SDES one.
  {
    keying: 'dtls',
    number: '+15550181',
    appId: TEST_APP_ID,
    key: KEYS.app,
    digest: 'SHA-256',
    caller: WHATSAPP_USER,
    hangsUp: 'app',
  },
  {
    keying: 'sdes',
    number: '+15550182',
    appId: OTHER_APP_ID,
    key: KEYS.otherApp,
    digest: 'MD5',
    caller: 'GB25100347291841962',
    hangsUp: 'phone',
  },
] as const;
/** Numbers Meta refuses: the gateway has the wrong password for one, Meta another hostname for the other. */
const WRONG_PASSWORD = '+15550183';
const WRONG_HOST = '+15550184';

let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
const phones = new Map<string, Baresip>();
const edges = new Map<string, WhatsAppSipEdge>();
const cleanup: (() => Promise<unknown>)[] = [];
const audio = (): BaresipAudioRig => ({
  rig,
  cleanup,
  baresipToneHz: PHONE_TONE_HZ,
  roomToneHz: ROOM_TONE_HZ,
});

beforeAll(async () => {
  const edgeCertificate = testCertificate('wa.meta.test');
  // The gateway's SIP server checks the edge's certificate, as it would Meta's.
  engine = await startSipEngine({
    tls: testCertificate('gw.test'),
    env: { NODE_EXTRA_CA_CERTS: edgeCertificate.certFile },
  });
  rig = await startLiveKit();
  for (const { keying, number, digest } of KEYINGS) {
    const phone = await Baresip.start({
      mediaenc: keying === 'dtls' ? 'dtls_srtp' : 'srtp-mand',
      medianat: keying === 'dtls' ? 'ice' : null,
      rtcpMux: true,
      codec: 'opus',
      toneHz: PHONE_TONE_HZ,
      autoAnswer: true,
      user: WHATSAPP_USER,
    });
    phones.set(keying, phone);
    edges.set(
      keying,
      await WhatsAppSipEdge.start({
        numbers: [
          { number, password: PASSWORD, sipHostname: 'gw.test' },
          { number: WRONG_PASSWORD, password: PASSWORD, sipHostname: 'gw.test' },
          { number: WRONG_HOST, password: PASSWORD, sipHostname: 'sip.elsewhere.test' },
        ],
        digestAlgorithm: digest,
        user: { host: '127.0.0.1', port: phone.sipPort },
        gateway: { host: '127.0.0.1', port: engine.tlsPort ?? 0 },
        certificate: edgeCertificate,
      }),
    );
  }
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: KEYINGS.map(({ keying }) => ({
          name: `meta-${keying}`,
          kind: 'whatsapp',
          sourceAddresses: ['127.0.0.1/32'],
          outbound: { host: '127.0.0.1', port: edges.get(keying)?.tlsPort, transport: 'tls' },
        })),
        whatsapp: {
          numbers: [
            ...KEYINGS.map(({ keying, number, appId }) => ({
              number,
              appId,
              trunk: `meta-${keying}`,
              sipHostname: 'gw.test',
              password: PASSWORD,
              keying,
            })),
            ...[WRONG_PASSWORD, WRONG_HOST].map((refused) => ({
              number: refused,
              appId: TEST_APP_ID,
              trunk: 'meta-sdes',
              sipHostname: 'gw.test',
              password: refused === WRONG_PASSWORD ? 'not-the-password' : PASSWORD,
              keying: 'sdes',
            })),
          ],
        },
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  for (const { appId } of KEYINGS) {
    const response = await fetch(`${gw.url}/v1/organization/apps/${appId}/calling`, {
      method: 'PUT',
      headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ whatsappCallingEnabled: true, whatsappSipEnabled: true }),
    });
    expect(response.status).toBe(200);
  }
  await until(async () => (await api(gw, '/readyz')).ready === true);
}, 90_000);

afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
  // A test that failed mid-call leaves nothing up for the next one.
  for (const phone of phones.values()) await phone.hangup().catch(() => undefined);
});

afterAll(async () => {
  await gw?.stop();
  await dispose();
  for (const edge of edges.values()) await edge.stop();
  for (const phone of phones.values()) await phone.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

async function nothingLeased(): Promise<void> {
  await until(async () => {
    const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
    return statuses.every((status) => status.portsInUse === 0 && status.sessions === 0);
  });
}

/** A digit pressed on the phone (RFC 4733 beside Opus, at 8 kHz as Meta offers) reaches the room. */
async function checkDtmfReachesTheRoom(phone: Baresip, callId: string, roomName: string): Promise<void> {
  const listener: Room = await joinRoom(rig, roomName, 'dtmf-listener');
  cleanup.push(() => listener.disconnect());
  const digits: string[] = [];
  listener.on(RoomEvent.DtmfReceived, (_code, digit, from) => {
    if (from.identity === `sip_${callId}`) digits.push(digit);
  });
  // Data reaches a participant over its subscriber connection: it subscribes to the call first.
  await nextAudioTrack(listener, `sip_${callId}`);
  await phone.sendDtmf('7');
  await until(async () => digits.length > 0);
  expect(digits).toEqual(['7']);
}

/** Nothing Meta refuses went to the edge: no re-INVITE, no INFO, no UPDATE. */
function onlyWhatMetaTakes(edge: WhatsAppSipEdge): void {
  for (const request of edge.requests) {
    expect(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS']).toContain(request.method);
    if (request.method === 'INVITE') expect(request.inDialog).toBe(false);
  }
}

describe.each(KEYINGS)(
  'WhatsApp over SIP, keyed by $keying',
  ({ keying, number, appId, key, caller, hangsUp }) => {
    it('user-initiated: Meta’s INVITE rings the app, is answered, and talks both ways', async () => {
      const phone = phones.get(keying);
      const edge = edges.get(keying);
      if (!phone || !edge) throw new Error('no phone or edge');
      edge.relayNextUserCall(caller, {
        'x-wa-meta-user-id': 'US.13491208655302741918',
        'x-wa-meta-user-name': 'Ada Lovelace',
        'x-wa-meta-user-country-code': 'GB',
      });
      const established = phone.nextEvent('CALL_ESTABLISHED', 30_000);
      await phone.dial(`sip:${number}@127.0.0.1:${edge.udpPort}`);
      let ringing: any;
      await until(async () => {
        ringing = (await api(gw, `/v1/calls?status=ringing&appId=${appId}`)).data[0];
        return ringing !== undefined;
      });
      expect(ringing).toMatchObject({ fromChannel: 'whatsapp', fromAddress: caller, toAddress: number });
      expect(ringing.metadata.whatsapp).toMatchObject({ userName: 'Ada Lovelace', countryCode: 'GB' });
      expect(ringing.metadata.whatsapp.wacid).toMatch(/^wacid\./);
      const answered = await api(gw, `/v1/calls/${ringing.id}/actions`, {
        method: 'POST',
        body: '{"action":"accept"}',
      });
      expect(answered).toMatchObject({ status: 'in_progress', media: { encryption: keying } });
      await established;
      const attributes = await participantAttributes(rig, answered.livekitRoomName, ringing.id);
      expect(attributes?.['sip.h.x-wa-meta-user-name']).toBe('Ada Lovelace');
      expect(attributes?.['sip.mediaEncryption']).toBe(keying);

      await checkAudioBothWays(audio(), ringing.id, answered.livekitRoomName);
      await checkDtmfReachesTheRoom(phone, ringing.id, answered.livekitRoomName);
      const closed = phone.nextEvent('CALL_CLOSED');
      await phone.hangup();
      await closed;
      await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'completed');
      const ended = await api(gw, `/v1/calls/${ringing.id}`);
      expect(ended.endReason).toBe('caller_hangup');
      // Meta's BYE said how long WhatsApp counted the call.
      expect(ended.metadata.whatsapp.callDurationSeconds).toBeGreaterThanOrEqual(2);
      await checkBaresipHeardTheRoom(audio(), phone);
      onlyWhatMetaTakes(edge);
      await nothingLeased();
    });

    it('business-initiated: POST /v1/calls toChannel whatsapp answers Meta’s 407 and talks both ways', async () => {
      const phone = phones.get(keying);
      const edge = edges.get(keying);
      if (!phone || !edge) throw new Error('no phone or edge');
      const established = phone.nextEvent('CALL_ESTABLISHED', 30_000);
      const placed = await placeCall(gw, { from: number, to: WHATSAPP_USER, toChannel: 'whatsapp' }, key);
      expect(placed.status, JSON.stringify(placed.json)).toBe(201);
      const call = placed.json;
      await established;
      await callWhen(gw, call.id, (current) => current.status === 'in_progress');
      expect(await api(gw, `/v1/calls/${call.id}`)).toMatchObject({ media: { encryption: keying } });
      // Meta challenged the first INVITE; the second carried the number's credentials.
      const invites = edge.requests.filter((request) => request.method === 'INVITE' && !request.inDialog);
      const last = invites.at(-1)?.message.headers ?? [];
      expect(last.some(([name]) => name.toLowerCase() === 'proxy-authorization')).toBe(true);
      // What we say we allow is what Meta accepts.
      const allow = last.filter(([name]) => name.toLowerCase() === 'allow').map(([, value]) => value);
      expect(allow).toEqual(['INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS']);

      await checkAudioBothWays(audio(), call.id, call.livekitRoomName);
      const closed = phone.nextEvent('CALL_CLOSED');
      if (hangsUp === 'phone') {
        await phone.hangup();
      } else {
        const hung = await api(gw, `/v1/calls/${call.id}`, {
          method: 'PATCH',
          headers: bearer(key),
          body: '{"status":"completed"}',
        });
        expect(hung).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
      }
      // Either way the phone's call is over: our BYE went through the edge, or its BYE came to us.
      await closed;
      await until(async () => (await api(gw, `/v1/calls/${call.id}`)).status === 'completed');
      const ended = await api(gw, `/v1/calls/${call.id}`);
      if (hangsUp === 'phone') {
        expect(ended.endReason).toBe('callee_hangup');
        expect(ended.metadata.whatsapp.callDurationSeconds).toBeGreaterThanOrEqual(2);
      } else {
        expect(ended.endReason).toBe('api_hangup');
        expect(edge.requests.some((request) => request.method === 'BYE')).toBe(true);
      }
      await checkBaresipHeardTheRoom(audio(), phone);
      onlyWhatMetaTakes(edge);
      await nothingLeased();
    });
  },
);

describe('Meta refuses a business-initiated call', () => {
  it.each([
    ['the SIP password is wrong', WRONG_PASSWORD, 'Forbidden'],
    [
      'the From host is not the SIP hostname Meta has for the number',
      WRONG_HOST,
      'SIP server gw.test does not match',
    ],
  ])('when %s: the call fails with Meta’s 403 and its reason, nothing leased', async (_why, from, reason) => {
    const placed = await placeCall(gw, { from, to: WHATSAPP_USER, toChannel: 'whatsapp' });
    expect(placed.status).toBe(201);
    const failed = await callWhen(gw, placed.json.id, (current) => current.status === 'failed');
    expect(failed).toMatchObject({ sipStatus: 403, sipReason: reason, endReason: 'trunk_error' });
    await nothingLeased();
  });
});
