import { dispose, type Room } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, metricValue, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import {
  joinRoomWithToken,
  nextAudioTrack,
  recordAudio,
  watchCallStatus,
} from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { expectLikeThePcap } from '../support/pcapSpeech.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';
import { rmsDbfs } from '../support/tone.js';

/**
 * A phone call through the whole gateway: sipp calls over SIP (through the embedded SIP server),
 * the call is accepted by API, answered into its LiveKit room by a real media worker, and sipp's
 * recorded G.711 A-law audio (its pcap) is heard by a participant in that room, unbroken wherever
 * the pcap itself speaks. The caller's participant is in the room while the call rings, and says
 * where the call stands in sip.callStatus.
 */
const ROUTED = ROUTED_NUMBER;
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;
let agent: Room | undefined;

beforeAll(async () => {
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(callGatewayConfig(engine, rig), {
    mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
  });
});
afterAll(async () => {
  await agent?.disconnect();
  await running?.stop();
  await dispose();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

describe('a phone call heard in its LiveKit room', () => {
  it("carries the caller's audio from sipp's pcap to a room participant, then ends on the caller's BYE", async () => {
    await until(async () => (await api(running, '/readyz')).ready === true);
    const sipp = runSipp({
      scenario: 'uac_pcap',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    let ringing: any;
    await until(async () => {
      ringing = (await api(running, `/v1/calls?status=ringing&appId=${TEST_APP_ID}`)).data[0];
      return ringing !== undefined;
    });
    // The room is there while it rings, and so is the caller's participant: an agent can join
    // before answering. A browser joins with a token from the API; the test participant too.
    await until(async () => (await api(running, `/v1/calls/${ringing.id}`)).livekitRoomName !== null);
    const grant = await api(running, `/v1/calls/${ringing.id}/tokens`, {
      method: 'POST',
      body: '{"identity":"agent"}',
    });
    expect(grant).toMatchObject({ url: rig.url, roomName: `call-${ringing.id}`, identity: 'agent' });
    agent = await joinRoomWithToken(grant.url, grant.token);
    const callStatus = watchCallStatus(agent, `sip_${ringing.id}`);
    await callStatus.until('ringing');
    expect(await metricValue(running, 'gateway_media_sessions{worker="0"}')).toBe(1);

    const answered = await api(running, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(answered).toMatchObject({ status: 'in_progress', livekitRoomName: grant.roomName });
    expect(await metricValue(running, 'gateway_media_sessions{worker="0"}')).toBe(1);
    expect(await metricValue(running, 'gateway_call_answer_delay_seconds_count{direction="inbound"}')).toBe(
      1,
    );
    await callStatus.until('active');
    const track = await nextAudioTrack(agent, `sip_${ringing.id}`);
    const audio = await recordAudio(track, { durationMs: 3000, settleMs: 300, silenceBelowDbfs: -55 });
    // Recorded speech with pauses of its own: judged against the pcap itself (pcapSpeech.ts).
    expect(rmsDbfs(audio)).toBeGreaterThan(-40);
    expectLikeThePcap(audio, 'inbound pcap → room');

    assertAllCallsSucceeded(await sipp, 1);
    let ended: any;
    await until(async () => {
      ended = await api(running, `/v1/calls/${ringing.id}`);
      return ended.status === 'completed';
    });
    expect(ended).toMatchObject({ endReason: 'caller_hangup' });
    expect(ended.duration).toBeGreaterThanOrEqual(8);
    await callStatus.until('hangup');
    expect(callStatus.seen).toEqual(['ringing', 'active', 'hangup']);
    // The CRM view: taken by the participant who joined, with sipp's Call-ID as the external id.
    const log = await api(running, `/v1/calls/${ringing.id}/log`);
    expect(log).toMatchObject({ status: 'ANSWERED_BY_STAFF', answeredBy: 'agent', direction: 'INBOUND' });
    expect(log.externalIds.sipCallId).toMatch(/^\d+-\d+@/);
    expect(await metricValue(running, 'gateway_call_duration_seconds_count{direction="inbound"}')).toBe(1);
    expect(await metricValue(running, 'gateway_call_duration_seconds_sum{direction="inbound"}')).toBe(
      ended.duration,
    );
    const late = await fetch(`${running.url}/v1/calls/${ringing.id}/tokens`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"identity":"latecomer"}',
    });
    expect(late.status).toBe(409);
    await until(async () => {
      const statuses = (await running.gateway.media?.workerStatuses()) ?? [];
      return statuses.every((status) => status.portsInUse === 0 && status.sessions === 0);
    });
  });
});
