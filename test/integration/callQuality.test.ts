import { dispose } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import {
  api,
  callGatewayConfig,
  metricValue,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { SipCaller } from '../support/sipCaller.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * Call quality at a glance, over real sockets: a phone caller (our SIP caller and RTP peer,
 * PCMU, no RTCP at all, like sipp) calls in through the embedded SIP server and is answered into
 * a real livekit-server room by a real media worker, while its RTP peer loses every 10th packet
 * on the way. The app's call stream pushes the call's leg quality every few seconds and
 * GET /v1/calls/{id} shows it live, with packet loss near 10 %; after the caller's BYE the call
 * keeps its final figures and /metrics has observed them once in the per-call histograms.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(callGatewayConfig(engine, rig), {
    mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
  });
  await until(async () => (await api(running, '/readyz')).ready === true, 60_000);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await running?.stop();
  await dispose();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

interface StreamEvent {
  event: string;
  data: any;
}

/** GET /v1/calls/stream read as a page would (fetch with the key), its events kept in order. */
async function callStream(key: string) {
  const abort = new AbortController();
  const response = await fetch(`${running.url}/v1/calls/stream`, {
    headers: bearer(key),
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  const reader = (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new TextDecoderStream())
    .getReader();
  void (async () => {
    let buffer = '';
    for (;;) {
      const read = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (read.done) return;
      buffer += read.value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      for (const wake of [...waiters]) wake();
    }
  })();
  cleanup.push(() => abort.abort());
  return {
    events,
    /** The first event, already received or still to come, that `matches`; fails after `deadlineMs`. */
    until(matches: (event: StreamEvent) => boolean, deadlineMs = 20_000): Promise<StreamEvent> {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find(matches);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error('no such event on the call stream in time'));
        }, deadlineMs);
        waiters.add(check);
        check();
      });
    },
  };
}

const LABELS = '{channel="pstn",direction="inbound"}';

describe('call quality', () => {
  it('shows a live call’s packet loss, jitter and MOS, keeps the final figures and observes them once', async () => {
    const stream = await callStream(KEYS.app);
    const otherApp = await callStream(KEYS.otherApp);
    await stream.until((e) => e.event === 'snapshot');
    for (const histogram of ['mos', 'packet_loss_ratio', 'jitter_seconds']) {
      expect(await metricValue(running, `gateway_call_${histogram}_count${LABELS}`)).toBe(0);
    }

    const peer = await RtpPeer.open('PCMU');
    const caller = await SipCaller.open({ host: '127.0.0.1', port: engine.sipPort }, 'lossy');
    cleanup.push(
      () => peer.close(),
      () => caller.close(),
    );
    peer.loseEvery = 10;
    const answer = caller.invite(ROUTED_NUMBER, peer.offer());
    const ringing = await theRingingCall(running);
    expect(ringing.quality).toBeNull();
    await api(running, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
    peer.useRemoteSdp(await answer);
    peer.start({ frequencyHz: 1000, amplitude: 0.3 });

    // Pushed while the call lives, without asking: five seconds of audio, one packet in ten lost.
    const ofCall = (e: StreamEvent) => e.event === 'quality' && e.data.callId === ringing.id;
    const pushed = await stream.until(
      (e) => ofCall(e) && e.data.quality.packetsReceived + e.data.quality.packetsLost >= 250,
    );
    console.info('live quality', pushed.data.quality);
    expect(pushed.data.final).toBe(false);
    expect(Math.abs(pushed.data.quality.packetLossRatio - 0.1)).toBeLessThanOrEqual(0.01);
    const pushes = stream.events.filter(ofCall);
    // One every 2 s or so: from the first (after up to 2 s of audio) to this one, at least one more.
    expect(pushes.length).toBeGreaterThanOrEqual(2);
    expect(pushes.every((e) => e.data.final === false)).toBe(true);

    const live = await api(running, `/v1/calls/${ringing.id}`);
    expect(live.status).toBe('in_progress');
    console.info('GET while live', live.quality);
    expect(Math.abs(live.quality.packetLossRatio - 0.1)).toBeLessThanOrEqual(0.01);
    expect(live.quality.packetsLost).toBeGreaterThanOrEqual(24);
    expect(live.quality.packetsReceived).toBeGreaterThanOrEqual(225);
    expect(live.quality.jitterMs).toBeGreaterThanOrEqual(0);
    expect(live.quality.jitterMs).toBeLessThan(40);
    // Our RTP peer sends no RTCP: no round trip to measure.
    expect(live.quality.roundTripMs).toBeNull();
    // 10 % random loss on G.711 with concealment (Bpl 25.1) is a poor call, not an unusable one.
    expect(live.quality.mos).toBeGreaterThan(2);
    expect(live.quality.mos).toBeLessThan(3.8);
    expect(Date.parse(live.quality.updatedAt)).toBeGreaterThanOrEqual(Date.parse(live.answeredAt));
    const listed = (await api(running, `/v1/calls?appId=${TEST_APP_ID}`)).data.find(
      (call: any) => call.id === ringing.id,
    );
    expect(listed.quality.packetLossRatio).toBeGreaterThan(0.08);
    for (const histogram of ['mos', 'packet_loss_ratio', 'jitter_seconds']) {
      expect(await metricValue(running, `gateway_call_${histogram}_count${LABELS}`)).toBe(0);
    }

    // The caller hangs up: the final figures are pushed once more, and kept on the ended call.
    expect(await caller.hangUp()).toBe(200);
    const final = await stream.until((e) => ofCall(e) && e.data.final === true);
    peer.stop();
    console.info(
      'final quality',
      final.data.quality,
      'peer lost',
      peer.audioPacketsLost,
      'of',
      peer.audioPacketsMade,
    );
    expect(final.data.quality.packetsLost).toBeGreaterThanOrEqual(live.quality.packetsLost);
    expect(Math.abs(final.data.quality.packetLossRatio - 0.1)).toBeLessThanOrEqual(0.01);
    const ended = await api(running, `/v1/calls/${ringing.id}`);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });
    expect(ended.quality).toEqual(final.data.quality);
    // The stream's call event for the end carries the figures known then.
    const completed = await stream.until(
      (e) => e.event === 'call' && e.data.id === ringing.id && e.data.status === 'completed',
    );
    expect(completed.data.quality.packetLossRatio).toBeGreaterThan(0.08);

    // Observed once, at the end, with the final figures.
    expect(await metricValue(running, `gateway_call_mos_count${LABELS}`)).toBe(1);
    expect(await metricValue(running, `gateway_call_mos_sum${LABELS}`)).toBe(final.data.quality.mos);
    expect(await metricValue(running, `gateway_call_packet_loss_ratio_count${LABELS}`)).toBe(1);
    expect(await metricValue(running, `gateway_call_packet_loss_ratio_sum${LABELS}`)).toBe(
      final.data.quality.packetLossRatio,
    );
    expect(
      await metricValue(
        running,
        'gateway_call_packet_loss_ratio_bucket{le="0.05",channel="pstn",direction="inbound"}',
      ),
    ).toBe(0);
    expect(
      await metricValue(
        running,
        'gateway_call_packet_loss_ratio_bucket{le="0.1",channel="pstn",direction="inbound"}',
      ),
    ).toBe(final.data.quality.packetLossRatio <= 0.1 ? 1 : 0);
    expect(await metricValue(running, `gateway_call_jitter_seconds_count${LABELS}`)).toBe(1);

    // Another app's key saw none of it.
    expect(otherApp.events.filter((e) => e.event !== 'snapshot')).toEqual([]);
    await until(async () => {
      const statuses = (await running.gateway.media?.workerStatuses()) ?? [];
      return statuses.every((status) => status.portsInUse === 0 && status.sessions === 0);
    });
  });
});
