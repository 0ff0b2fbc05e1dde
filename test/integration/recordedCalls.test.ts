import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, callsOf, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { decodeRecording, probeRecording } from '../support/recordingFiles.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { TEST_APP_ID } from '../support/testKeys.js';
import { analyseTone, rmsDbfs } from '../support/tone.js';

/**
 * Voicemail and whole-call recording end to end: real SIP callers (sipp), real media workers recording with ffmpeg, and the
 * files opened with ffprobe. What the caller hears (greeting, tone) is judged on the caller's side;
 * what was recorded is judged in the file.
 */
const RATE = 8000;
let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
let files: string;
let http: Server;
let greetingUrl: string;

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'voicemail-'));
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'sine=frequency=700:duration=1.5:sample_rate=16000', '-y', join(files, 'greeting.wav')],
  ]);
  http = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/wav' }).end(readFileSync(join(files, 'greeting.wav')));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  greetingUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/greeting.wav`;
  engine = await startSipEngine();
  rig = await startLiveKit();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: { ringTimeoutSeconds: 1 },
      recording: { dir: join(files, 'recordings') },
      // The greeting is served from loopback.
      media: { playback: { allowPrivateAddresses: true } },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true, 60_000);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
  await new Promise((resolve) => http?.close(resolve));
  rmSync(files, { recursive: true, force: true });
});

async function configure(settings: Record<string, unknown>): Promise<void> {
  await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
    method: 'PUT',
    body: JSON.stringify({ voicemailEnabled: true, ...settings }),
  });
}

async function endedCall(id: string): Promise<any> {
  let call: any;
  await until(async () => {
    call = await api(gw, `/v1/calls/${id}`);
    return call.endedAt !== null;
  }, 30_000);
  return call;
}

async function eventsOf(id: string, name: string) {
  return (await gw.gateway.events.outbox.unackedAfter(0, 100_000)).filter(
    (event) => event.callId === id && event.event === name,
  );
}

async function voicemailEvents(id: string) {
  return await eventsOf(id, 'calls.voicemail.received');
}

/** The recording decoded to 8 kHz mono samples. */
const decoded = (path: string) => decodeRecording(path, RATE);

/** Frequencies heard in consecutive 200 ms blocks that carry sound, in order, without repeats. */
function toneSequence(frames: Int16Array[]): number[] {
  const all = new Int16Array(frames.length * 160);
  for (const [i, frame] of frames.entries()) all.set(frame, i * 160);
  const sequence: number[] = [];
  for (let at = 0; at + 1600 <= all.length; at += 1600) {
    const block = all.subarray(at, at + 1600);
    if (rmsDbfs(block) < -40) continue;
    const tone = analyseTone(block, RATE);
    if (tone.purity < 0.8) continue;
    const hz = Math.round(tone.frequencyHz / 50) * 50;
    if (sequence.at(-1) !== hz) sequence.push(hz);
  }
  return sequence;
}

describe('voicemail', () => {
  it('answers at once (defaultAnswerBehavior voicemail): greeting, tone, message recorded until the limit', async () => {
    await configure({
      defaultAnswerBehavior: 'voicemail',
      voicemailGreetingUrl: greetingUrl,
      voicemailMaxDuration: 10,
      recordingFormat: 'ogg',
    });
    const peer = await RtpPeer.open('PCMU', { latch: true });
    const heard: Int16Array[] = [];
    peer.onAudio((frame) => heard.push(frame));
    peer.start({ frequencyHz: 600, amplitude: 0.3 });
    const sipp = runSipp({
      scenario: 'uac-rtp-peer',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { rtpport: peer.port },
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    let id = '';
    await until(async () => {
      id = (await callsOf(gw, 'voicemail'))[0]?.id ?? '';
      return id !== '';
    });

    // The gateway hangs up when the message reaches voicemailMaxDuration.
    assertAllCallsSucceeded(await sipp, 1);
    peer.close();
    const ended = await endedCall(id);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'max_duration' });
    // The caller heard the app's greeting (700 Hz), then the tone to speak after (1 kHz).
    expect(toneSequence(heard).slice(0, 2)).toEqual([700, 1000]);

    await until(async () => (await voicemailEvents(id)).length === 1);
    const recording = ((await voicemailEvents(id))[0]?.data as any)?.recording;
    expect(recording).toMatchObject({ format: 'ogg' });
    expect(recording.durationMs).toBeGreaterThanOrEqual(9_500);
    expect(recording.durationMs).toBeLessThanOrEqual(10_500);
    const info = await probeRecording(recording.path);
    expect(info.streams[0]?.codec_name).toBe('opus');
    expect(Number(info.format.duration)).toBeGreaterThan(9.5);
    const message = analyseTone((await decoded(recording.path)).subarray(RATE, 3 * RATE), RATE);
    expect(Math.abs(message.frequencyHz - 600)).toBeLessThanOrEqual(10);
    expect((await api(gw, `/v1/calls/${id}/log`)).status).toBe('VOICEMAIL_RECEIVED');
    // The recordings API has the message as the call's voicemail.
    expect((await api(gw, `/v1/recordings?callId=${id}`)).data).toMatchObject([
      { id: recording.id, kind: 'voicemail', state: 'completed', format: 'ogg', bytes: recording.bytes },
    ]);
  });

  it('takes a call nobody answered at the ring timeout, with the spoken default greeting, until the caller hangs up', async () => {
    await configure({
      defaultAnswerBehavior: 'webhook',
      voicemailGreetingUrl: null,
      voicemailMaxDuration: 60,
      recordingFormat: 'mp4',
    });
    const before = new Set((await callsOf(gw)).map((call) => call.id));
    const peer = await RtpPeer.open('PCMU', { latch: true });
    peer.start({ frequencyHz: 600, amplitude: 0.3 });
    // The caller hangs up 16 s after the answer: the greeting, the tone, then a few seconds of
    // message.
    const sipp = await runSipp({
      scenario: 'uac-rtp-peer-hangup',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { rtpport: peer.port },
      pauseMs: 16_000,
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    peer.close();
    assertAllCallsSucceeded(sipp, 1);
    const call = (await callsOf(gw)).find((candidate) => !before.has(candidate.id));
    const ended = await endedCall(call.id);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });

    await until(async () => (await voicemailEvents(call.id)).length === 1);
    const recording = ((await voicemailEvents(call.id))[0]?.data as any)?.recording;
    expect(recording.format).toBe('mp4');
    const info = await probeRecording(recording.path);
    expect(info.format.format_name).toContain('mp4');
    expect(Number(info.format.duration)).toBeGreaterThan(0.5);
    const message = analyseTone(await decoded(recording.path), RATE);
    expect(Math.abs(message.frequencyHz - 600)).toBeLessThanOrEqual(10);
  });
});

describe('whole-call recording (autoRecordEnabled)', () => {
  it('records an accepted call until it ends and reports the file', async () => {
    await configure({
      voicemailEnabled: false,
      defaultAnswerBehavior: 'webhook',
      autoRecordEnabled: true,
      recordingFormat: 'webm',
    });
    const peer = await RtpPeer.open('PCMU', { latch: true });
    peer.start({ frequencyHz: 600, amplitude: 0.3 });
    const sipp = runSipp({
      scenario: 'uac-rtp-peer-hangup',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { rtpport: peer.port },
      pauseMs: 4_000,
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    let id = '';
    await until(async () => {
      id = (await callsOf(gw, 'ringing'))[0]?.id ?? '';
      return id !== '';
    });
    const accepted = await api(gw, `/v1/calls/${id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(accepted.status).toBe('in_progress');
    assertAllCallsSucceeded(await sipp, 1);
    peer.close();
    expect(await endedCall(id)).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });

    await until(async () => (await eventsOf(id, 'calls.recording.completed')).length === 1);
    const recording = ((await eventsOf(id, 'calls.recording.completed'))[0]?.data as any)?.recording;
    expect(recording).toMatchObject({ format: 'webm', reason: 'session_closed' });
    const info = await probeRecording(recording.path);
    expect(info.streams[0]?.codec_name).toBe('opus');
    expect(Number(info.format.duration)).toBeGreaterThan(2);
    const heard = analyseTone(await decoded(recording.path), RATE);
    expect(Math.abs(heard.frequencyHz - 600)).toBeLessThanOrEqual(10);
    await configure({ voicemailEnabled: false, autoRecordEnabled: false });
  });
});
