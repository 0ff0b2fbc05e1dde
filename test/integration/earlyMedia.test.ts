import { dispose, type Room } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, ROUTED_NUMBER, theRingingCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { joinRoomWithToken, nextAudioTrack, recordAudio } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { expectLikeThePcap } from '../support/pcapSpeech.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { rmsDbfs } from '../support/tone.js';

/**
 * pre_accept: the call's media is set up and answered with a 183 before the 200 OK, so the room
 * hears the caller while the call still rings, and the accept that follows reuses that media.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;
let agent: Room | undefined;

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(callGatewayConfig(engine, rig), {
    mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
  });
  await until(async () => (await api(running, '/readyz')).ready === true);
});
afterEach(async () => {
  await agent?.disconnect();
  agent = undefined;
});
afterAll(async () => {
  await running?.stop();
  await dispose();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

async function allMediaReleased(): Promise<void> {
  await until(async () => {
    const statuses = (await running.gateway.media?.workerStatuses()) ?? [];
    return statuses.every((status) => status.portsInUse === 0 && status.sessions === 0);
  });
}

async function action(callId: string, body: string): Promise<any> {
  return api(running, `/v1/calls/${callId}/actions`, { method: 'POST', body });
}

describe('early media (pre_accept)', () => {
  it('carries the caller to the room before the answer, then answers on the same media', async () => {
    const sipp = runSipp({
      scenario: 'uac-early-media',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      calls: 1,
      hardTimeoutMs: 90_000,
    });
    const ringing = await theRingingCall(running);
    const early = await action(ringing.id, '{"action":"pre_accept"}');
    expect(early).toMatchObject({ id: ringing.id, status: 'ringing', answeredAt: null });
    expect(early.livekitRoomName).toBeTruthy();

    const grant = await api(running, `/v1/calls/${ringing.id}/tokens`, {
      method: 'POST',
      body: '{"identity":"agent"}',
    });
    agent = await joinRoomWithToken(grant.url, grant.token);
    const track = await nextAudioTrack(agent, `sip_${ringing.id}`);
    // The room side skips 300 ms: the receiving WebRTC stack fades a new stream in (livekitRig.test).
    const before = await recordAudio(track, { durationMs: 3000, settleMs: 300, silenceBelowDbfs: -55 });
    // Speech heard in the room while the call is still unanswered: that is the point of early media;
    // unbroken wherever the pcap itself speaks.
    expect(rmsDbfs(before)).toBeGreaterThan(-40);
    expectLikeThePcap(before, 'early media pcap → room');
    expect((await api(running, `/v1/calls/${ringing.id}`)).status).toBe('ringing');

    const answered = await action(ringing.id, '{"action":"accept"}');
    expect(answered).toMatchObject({ status: 'in_progress', livekitRoomName: early.livekitRoomName });
    // One media session served both phases: still one, not a second one for the answer.
    const sessions = (await running.gateway.media?.workerStatuses())?.reduce((n, s) => n + s.sessions, 0);
    expect(sessions).toBe(1);

    assertAllCallsSucceeded(await sipp, 1);
    await until(async () => (await api(running, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(await api(running, `/v1/calls/${ringing.id}`)).toMatchObject({ endReason: 'caller_hangup' });
    await allMediaReleased();
  });

  it('releases the early media of a call rejected after pre_accept', async () => {
    const sipp = runSipp({
      scenario: 'uac-expect-final',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { expected: 603 },
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(running);
    expect(await action(ringing.id, '{"action":"pre_accept"}')).toMatchObject({ status: 'ringing' });
    const rejected = await action(ringing.id, '{"action":"reject","code":603}');
    expect(rejected).toMatchObject({ status: 'failed', endReason: 'rejected', sipStatus: 603 });
    assertAllCallsSucceeded(await sipp, 1);
    await allMediaReleased();
  });
});
