import { dispose, type Room } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { Baresip, type BaresipOptions } from '../support/baresip.js';
import {
  type BaresipAudioRig,
  checkAudioBothWays,
  checkBaresipHeardTheRoom,
  participantAttributes,
} from '../support/baresipAudio.js';
import { api, callGatewayConfig, callWhen, placeCall, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { joinRoom, nextAudioTrack, recordAudio } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';
import { analyseTone } from '../support/tone.js';
import { unbrokenSound } from '../support/unbrokenSound.js';

/**
 * SDES-SRTP against baresip (Debian's, libre's SRTP): baresip calls the gateway and the gateway
 * calls baresip, with PCMU and with Opus, on a trunk whose policy is `sdes required`. baresip's
 * tone (1 kHz) is heard in the room; a room participant's tone (440 Hz) is in what baresip decoded,
 * both at their frequency and level and unbroken. A plain-RTP offer to that trunk is refused with
 * 488 before it rings. Nothing stays leased afterwards.
 */
const BARESIP_TONE_HZ = 1000;
const ROOM_TONE_HZ = 440;
const CODECS = ['PCMU', 'opus'] as const;
const CALLEE = '+15550123';

let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
/** One callee per codec, each behind its own outbound trunk. */
const callees = new Map<string, Baresip>();
const cleanup: (() => Promise<unknown>)[] = [];

async function startBaresip(options: BaresipOptions): Promise<Baresip> {
  const baresip = await Baresip.start(options);
  cleanup.push(() => baresip.stop());
  return baresip;
}

beforeAll(async () => {
  // One after the other: they pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  for (const codec of CODECS) {
    const callee = await Baresip.start({
      mediaenc: 'srtp-mand',
      codec,
      toneHz: BARESIP_TONE_HZ,
      autoAnswer: true,
      user: CALLEE,
    });
    callees.set(codec, callee);
  }
  const trunk = (name: string, codec: string) => ({
    name,
    kind: 'pstn',
    sourceAddresses: ['127.0.0.1/32'],
    outbound: { host: '127.0.0.1', port: callees.get(codec)?.sipPort, transport: 'udp' },
    media: { encryption: 'sdes', policy: 'required' },
  });
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [trunk('srtp-pcmu', 'PCMU'), trunk('srtp-opus', 'opus')],
        apps: [
          { appId: TEST_APP_ID, outboundTrunk: 'srtp-pcmu' },
          { appId: OTHER_APP_ID, outboundTrunk: 'srtp-opus' },
        ],
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true);
}, 60_000);

afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

afterAll(async () => {
  await gw?.stop();
  await dispose();
  for (const callee of callees.values()) await callee.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

const AUDIO = (): BaresipAudioRig => ({
  rig,
  cleanup,
  baresipToneHz: BARESIP_TONE_HZ,
  roomToneHz: ROOM_TONE_HZ,
});

async function mediaAttribute(roomName: string, callId: string): Promise<string | undefined> {
  return (await participantAttributes(rig, roomName, callId))?.['sip.mediaEncryption'];
}

async function nothingLeased(): Promise<void> {
  await until(async () => {
    const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
    return statuses.every((status) => status.portsInUse === 0 && status.sessions === 0);
  });
}

describe.each(CODECS)('SDES-SRTP with baresip, %s', (codec) => {
  it('baresip calls in over RTP/SAVP: tones both ways, keyed sdes on the call and the participant', async () => {
    const caller = await startBaresip({ mediaenc: 'srtp-mand', codec, toneHz: BARESIP_TONE_HZ });
    await caller.dial(`sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}`);
    let ringing: any;
    await until(async () => {
      ringing = (await api(gw, `/v1/calls?status=ringing&appId=${TEST_APP_ID}`)).data[0];
      return ringing !== undefined;
    });
    const established = caller.nextEvent('CALL_ESTABLISHED');
    const answered = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(answered).toMatchObject({ status: 'in_progress', media: { encryption: 'sdes' } });
    await established;
    // baresip's console line comes on stdout, which its ctrl_tcp event can beat.
    await until(
      async () => /SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/.test(caller.output()),
      5000,
    );
    expect(await mediaAttribute(answered.livekitRoomName, ringing.id)).toBe('sdes');

    await checkAudioBothWays(AUDIO(), ringing.id, answered.livekitRoomName);
    const closed = caller.nextEvent('CALL_CLOSED');
    await caller.hangup();
    await closed;
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({
      endReason: 'caller_hangup',
      media: { encryption: 'sdes' },
    });
    await checkBaresipHeardTheRoom(AUDIO(), caller);
    await nothingLeased();
  });

  it('the gateway calls baresip with an RTP/SAVP offer: tones both ways', async () => {
    const callee = callees.get(codec);
    if (!callee) throw new Error('no callee');
    const established = callee.nextEvent('CALL_ESTABLISHED');
    const placed = await placeCall(
      gw,
      { from: '+15550100', to: CALLEE },
      codec === 'PCMU' ? KEYS.app : KEYS.otherApp,
    );
    expect(placed.status).toBe(201);
    const call = placed.json;
    await established;
    await callWhen(gw, call.id, (current) => current.status === 'in_progress');
    expect(await api(gw, `/v1/calls/${call.id}`)).toMatchObject({ media: { encryption: 'sdes' } });
    await until(async () => (await mediaAttribute(call.livekitRoomName, call.id)) === 'sdes');

    await checkAudioBothWays(AUDIO(), call.id, call.livekitRoomName);
    const closed = callee.nextEvent('CALL_CLOSED');
    await callee.hangup();
    await closed;
    await until(async () => (await api(gw, `/v1/calls/${call.id}`)).status === 'completed');
    expect((await api(gw, `/v1/calls/${call.id}`)).endReason).toBe('callee_hangup');
    await checkBaresipHeardTheRoom(AUDIO(), callee);
    await nothingLeased();
  });
});

describe('SDES-SRTP across re-INVITEs', () => {
  it('baresip holds and resumes the call: the keyed stream goes on, the room hears it again', async () => {
    const caller = await startBaresip({ mediaenc: 'srtp-mand', codec: 'PCMU', toneHz: BARESIP_TONE_HZ });
    await caller.dial(`sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}`);
    let ringing: any;
    await until(async () => {
      ringing = (await api(gw, `/v1/calls?status=ringing&appId=${TEST_APP_ID}`)).data[0];
      return ringing !== undefined;
    });
    const established = caller.nextEvent('CALL_ESTABLISHED');
    const answered = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    await established;
    const agent: Room = await joinRoom(rig, answered.livekitRoomName, 'agent');
    cleanup.push(() => agent.disconnect());
    const track = await nextAudioTrack(agent, `sip_${ringing.id}`);
    const heardBefore = await unbrokenSound(
      () => recordAudio(track, { durationMs: 1000, settleMs: 100 }),
      48_000,
    );
    expect(analyseTone(heardBefore, 48_000).frequencyHz).toBeCloseTo(BARESIP_TONE_HZ, -1);

    // Hold, then resume: two re-INVITEs answered by the same SRTP session.
    // Listen before the command: baresip can report the answer before it acknowledges the command.
    const held = caller.nextEvent('CALL_REMOTE_SDP');
    await caller.hold(true);
    await held;
    const resumed = caller.nextEvent('CALL_REMOTE_SDP');
    await caller.hold(false);
    await resumed;
    const heardAfter = await unbrokenSound(
      () => recordAudio(track, { durationMs: 1000, settleMs: 100 }),
      48_000,
    );
    const after = analyseTone(heardAfter, 48_000);
    expect(heardAfter.length / 48_000).toBeGreaterThan(0.9);
    expect(after.frequencyHz).toBeGreaterThan(BARESIP_TONE_HZ - 5);
    expect(after.frequencyHz).toBeLessThan(BARESIP_TONE_HZ + 5);
    expect(after.levelDbfs).toBeGreaterThan(-20);
    expect((await api(gw, `/v1/calls/${ringing.id}`)).status).toBe('in_progress');
    const closed = caller.nextEvent('CALL_CLOSED');
    await caller.hangup();
    await closed;
    await until(async () => (await api(gw, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(caller.output()).not.toMatch(/srtp: failed to decrypt RTP/);
    await nothingLeased();
  });
});

describe('best-effort SRTP: RTP/AVP with a=crypto', () => {
  it("baresip's `srtp` mode offers keys on RTP/AVP: the call is keyed and carries audio", async () => {
    const caller = await startBaresip({ mediaenc: 'srtp', codec: 'PCMU', toneHz: BARESIP_TONE_HZ });
    await caller.dial(`sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}`);
    let ringing: any;
    await until(async () => {
      ringing = (await api(gw, `/v1/calls?status=ringing&appId=${TEST_APP_ID}`)).data[0];
      return ringing !== undefined;
    });
    const established = caller.nextEvent('CALL_ESTABLISHED');
    const answered = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(answered).toMatchObject({ status: 'in_progress', media: { encryption: 'sdes' } });
    await established;
    await until(async () => /SRTP is Enabled/.test(caller.output()), 5000);
    await checkAudioBothWays(AUDIO(), ringing.id, answered.livekitRoomName);
    const closed = caller.nextEvent('CALL_CLOSED');
    await caller.hangup();
    await closed;
    await checkBaresipHeardTheRoom(AUDIO(), caller);
    await nothingLeased();
  });
});

describe('the trunk requires SRTP', () => {
  it('refuses a plain RTP/AVP offer with 488 and a Reason, before it rings', async () => {
    const caller = await startBaresip({ mediaenc: null, codec: 'PCMU', toneHz: BARESIP_TONE_HZ });
    const closed = caller.nextEvent('CALL_CLOSED');
    await caller.dial(`sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}`);
    const event = await closed;
    // baresip reports the final response with its Reason text.
    expect(JSON.stringify(event)).toMatch(/488/);
    // Its console line comes on stdout, which its ctrl_tcp event can beat.
    await until(async () => /488 Not Acceptable Here/.test(caller.output()), 5000);
    expect((await api(gw, `/v1/calls?appId=${TEST_APP_ID}&status=ringing`)).data).toEqual([]);
    await nothingLeased();
  });
});
