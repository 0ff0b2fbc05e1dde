import { dispose, type Room } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { expectContinuous } from '../support/audioContinuity.js';
import { api, callGatewayConfig, callWhen, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import {
  joinRoomWithToken,
  nextAudioTrack,
  publishTone,
  recordAudio,
} from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { expectLikeThePcap } from '../support/pcapSpeech.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, startSippServer } from '../support/sipp.js';
import { bearer, KEYS, OTHER_APP_ID, TEST_APP_ID } from '../support/testKeys.js';
import { analyseTone, rmsDbfs } from '../support/tone.js';
import { connectSrf, type SrfApp, type SrfDialog, waitForApps } from './sipEngineRig.js';

/**
 * Outbound calls carry audio both ways, through real media workers and a real livekit-server:
 * - to sipp as the trunk, which answers G.711 A-law and plays its recorded speech: the room hears it,
 *   unbroken wherever the speech itself is;
 * - to our own RTP peer behind a drachtio-srf UAS on a second embedded SIP server (the far end of
 *   the trunk): a room participant's 440 Hz tone is decoded on the SIP side, the peer's 1025 Hz
 *   tone is heard in the room, each for 3 s without a gap over 40 ms or more than one damaged
 *   20 ms frame a second.
 */
let engine: SipEngineProcess;
let farEngine: SipEngineProcess;
let farApp: SrfApp | undefined;
let rig: LiveKitRig;
let gw: RunningGateway;
let sippPort: number;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  // One after the other: they pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  farEngine = await startSipEngine();
  rig = await startLiveKit();
  sippPort = await freeUdpPort();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [
          {
            name: 'sipp',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: sippPort, transport: 'udp' },
          },
          {
            name: 'peer',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: farEngine.sipPort, transport: 'tcp' },
          },
        ],
        apps: [
          { appId: TEST_APP_ID, outboundTrunk: 'sipp' },
          { appId: OTHER_APP_ID, outboundTrunk: 'peer' },
        ],
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true, 30_000);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await gw?.stop();
  farApp?.disconnect();
  await dispose();
  await Promise.all([engine?.stop(), farEngine?.stop(), rig?.server.stop()]);
});

/** The level of a sine of this peak amplitude (fraction of full scale). */
const dbfs = (amplitude: number): number => 20 * Math.log10(amplitude / Math.SQRT2);

async function placed(key: string): Promise<any> {
  const { status, json } = await placeCall(gw, { from: '+15550100', to: '+442071838750' }, key);
  expect(status, JSON.stringify(json)).toBe(201);
  return json;
}

const statusOf = (id: string, wanted: string, key: string) =>
  callWhen(gw, id, (call) => call.status === wanted, key);

/** An agent in the call's room with a token from the API, as a browser would join. */
async function agentFor(callId: string, key: string): Promise<Room> {
  const grant = await api(gw, `/v1/calls/${callId}/tokens`, {
    method: 'POST',
    headers: bearer(key),
    body: '{"identity":"agent"}',
  });
  const room = await joinRoomWithToken(grant.url, grant.token);
  cleanup.push(() => room.disconnect());
  return room;
}

async function portsFree(): Promise<void> {
  await until(async () => {
    const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
    return gw.gateway.registry.size === 0 && statuses.every((s) => s.portsInUse === 0 && s.sessions === 0);
  });
}

describe('outbound calls with audio', () => {
  it("the room hears the callee: sipp's recorded G.711 A-law speech; a hangup by API ends it", async () => {
    const sipp = await startSippServer({
      scenario: 'uas-answer-pcap',
      localPort: sippPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    cleanup.push(() => sipp.stop({ graceful: false }));
    const call = await placed(KEYS.app);
    const agent = await agentFor(call.id, KEYS.app);
    await statusOf(call.id, 'in_progress', KEYS.app);
    const track = await nextAudioTrack(agent, `sip_${call.id}`);
    const audio = await recordAudio(track, { durationMs: 3000, settleMs: 300, silenceBelowDbfs: -55 });
    expect(rmsDbfs(audio)).toBeGreaterThan(-40);
    expectLikeThePcap(audio, 'outbound pcap → room');

    const hung = await api(gw, `/v1/calls/${call.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.app),
      body: '{"status":"completed"}',
    });
    expect(hung).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    assertAllCallsSucceeded(await sipp.exited, 1);
    await portsFree();
  });

  it("the room hears the callee's early media (183 with SDP) while the call still rings", async () => {
    const sipp = await startSippServer({
      scenario: 'uas-early-media-cancel',
      localPort: sippPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    cleanup.push(() => sipp.stop({ graceful: false }));
    const call = await placed(KEYS.app);
    const agent = await agentFor(call.id, KEYS.app);
    await statusOf(call.id, 'ringing', KEYS.app);
    const track = await nextAudioTrack(agent, `sip_${call.id}`);
    const audio = await recordAudio(track, { durationMs: 3000, settleMs: 300, silenceBelowDbfs: -55 });
    expect(rmsDbfs(audio)).toBeGreaterThan(-40);
    expectLikeThePcap(audio, 'early media pcap → room');
    // Heard before any answer: the call still rings.
    expect((await api(gw, `/v1/calls/${call.id}`, { headers: bearer(KEYS.app) })).status).toBe('ringing');

    const hung = await api(gw, `/v1/calls/${call.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.app),
      body: '{"status":"completed"}',
    });
    expect(hung).toMatchObject({ status: 'canceled', endReason: 'api_hangup' });
    assertAllCallsSucceeded(await sipp.exited, 1);
    await portsFree();
  });

  it('both ways with our RTP peer: it decodes the room’s 440 Hz, the room hears its 1025 Hz, unbroken; its BYE is callee_hangup', async () => {
    const peer = await RtpPeer.open('PCMU');
    cleanup.push(() => peer.close());
    let dialog: SrfDialog | undefined;
    const answered = new Promise<SrfDialog>((resolve) => {
      void connectSrf(farEngine, (srf) =>
        srf.invite((req, res) => {
          peer.useRemoteSdp(req.body);
          srf.createUAS(req, res, { localSdp: peer.offer() }).then((d) => {
            dialog = d;
            resolve(d);
          });
        }),
      ).then((app) => {
        farApp = app;
      });
    });
    await until(async () => farApp !== undefined);
    await waitForApps(farEngine, 1);
    const call = await placed(KEYS.otherApp);
    const agent = await agentFor(call.id, KEYS.otherApp);
    const tone = await publishTone(agent, { frequencyHz: 440, amplitude: 0.4 });
    cleanup.push(() => tone.stop());
    await answered;
    // 1025 Hz, not 1 kHz: a dropped or repeated 20 ms frame of it breaks its phase (audioContinuity.ts).
    peer.start({ frequencyHz: 1025, amplitude: 0.3 });
    await statusOf(call.id, 'in_progress', KEYS.otherApp);

    // Each side judged over 3 s from its first sound; the room side after the 300 ms in which the
    // receiving WebRTC stack fades a new stream in (the rig test shows it without the gateway).
    const [fromRoom, toRoom] = await Promise.all([
      peer.recordAudible({ durationMs: 3500, settleMs: 0 }),
      nextAudioTrack(agent, `sip_${call.id}`).then((track) =>
        recordAudio(track, { durationMs: 3500, settleMs: 300 }),
      ),
    ]);
    const heard = analyseTone(fromRoom, peer.codec.sampleRate);
    const sent = analyseTone(toRoom, 48_000);
    console.info(
      `outbound PCMU: the peer's sends were at worst ${peer.sendTiming.worstLateMs.toFixed(0)} ms late ` +
        `(${peer.sendTiming.framesOver20MsLate} frames over 20 ms late)`,
    );
    const roomToSip = expectContinuous(fromRoom, {
      sampleRate: peer.codec.sampleRate,
      toneHz: 440,
      where: 'outbound PCMU room → SIP',
    });
    const sipToRoom = expectContinuous(toRoom, {
      sampleRate: 48_000,
      toneHz: 1025,
      where: 'outbound PCMU SIP → room',
    });
    console.info(
      `outbound PCMU: room → SIP ${heard.frequencyHz} Hz ${heard.levelDbfs.toFixed(1)} dBFS, ${roomToSip.summary}; ` +
        `SIP → room ${sent.frequencyHz} Hz ${sent.levelDbfs.toFixed(1)} dBFS, ${sipToRoom.summary}`,
    );
    expect(Math.abs(heard.frequencyHz - 440)).toBeLessThanOrEqual(5);
    expect(heard.purity).toBeGreaterThan(0.7);
    expect(heard.levelDbfs).toBeGreaterThan(dbfs(0.4) - 6);
    expect(Math.abs(sent.frequencyHz - 1025)).toBeLessThanOrEqual(10);
    expect(sent.levelDbfs).toBeGreaterThan(dbfs(0.3) - 6);

    await dialog?.destroy();
    const done = await statusOf(call.id, 'completed', KEYS.otherApp);
    expect(done).toMatchObject({ endReason: 'callee_hangup', toChannel: 'pstn', direction: 'outbound' });
    await portsFree();
  });
});
