import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutboxEvent } from '../../src/control/events/outboxTypes.js';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { expectContinuous, QUIET_MACHINE } from '../support/audioContinuity.js';
import {
  api,
  callGatewayConfig,
  callWhen,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { decodeRecording, probeRecording } from '../support/recordingFiles.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp, type SippResult, startSippServer } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';
import { analyseTone, goertzelPower, rmsDbfs } from '../support/tone.js';

/**
 * Call flows end to end: sipp places the call (SIP through the embedded engine) with its media on
 * the test's own RTP peer (PCMU + RFC 4733), the gateway runs real media workers and a real
 * livekit-server, and every verb is judged by what the caller hears or what the events say.
 */
const RATE = 8000;
const QUIET_DBFS = -50;
const AUDIBLE_DBFS = -40;
let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
let files: string;
let http: Server;
let httpBase: string;
/** Where the app's outbound trunk sends a bridge verb's INVITE (a sipp callee, when a test runs one). */
let calleePort: number;

function tone(name: string, frequencyHz: number, seconds: number): string {
  const path = join(files, name);
  execFileSync('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${frequencyHz}:duration=${seconds}:sample_rate=16000`,
    '-y',
    path,
  ]);
  return path;
}

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'flow-audio-'));
  // 725 Hz, not 700: a 20 ms frame of it holds half a period more than whole ones, so a frame
  // dropped or repeated on the way breaks its phase (audioContinuity.ts).
  tone('tone725.wav', 725, 2);
  tone('tone500.wav', 500, 2);
  tone('tone900.wav', 900, 1);
  http = createServer((req, res) => {
    if (req.url !== '/tone500.wav') {
      res.writeHead(404).end('no such file');
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/wav' }).end(readFileSync(join(files, 'tone500.wav')));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  calleePort = await freeUdpPort();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      media: { playback: { fileDirs: [files], allowPrivateAddresses: true } },
      sip: {
        trunks: [
          {
            name: 'local',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: calleePort, transport: 'udp' },
          },
        ],
        apps: [{ appId: TEST_APP_ID, outboundTrunk: 'local' }],
      },
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

interface Caller {
  peer: RtpPeer;
  sipp: Promise<SippResult>;
  id: string;
  /** Every decoded frame the caller heard, with when it arrived. */
  heard: { at: number; frame: Int16Array }[];
}

/** A call from sipp whose media is an RTP peer (sending silence, latched to the gateway's RTP). */
async function callIn(): Promise<Caller> {
  const peer = await RtpPeer.open('PCMU', { latch: true });
  peer.start(null);
  const heard: Caller['heard'] = [];
  peer.onAudio((frame) => heard.push({ at: performance.now(), frame }));
  const sipp = runSipp({
    scenario: 'uac-rtp-peer',
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    keys: { rtpport: peer.port },
    calls: 1,
    hardTimeoutMs: 60_000,
  });
  const ringing = await theRingingCall(gw);
  return { peer, sipp, id: ringing.id, heard };
}

function patch(id: string, body: unknown): Promise<Response> {
  return fetch(`${gw.url}/v1/calls/${id}`, {
    method: 'PATCH',
    headers: bearer(KEYS.admin),
    body: JSON.stringify(body),
  });
}

async function runFlow(id: string, callFlow: unknown[]): Promise<any> {
  const response = await patch(id, { callFlow });
  const body = await response.json();
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body;
}

/** The call once it has ended. */
function endedCall(id: string): Promise<any> {
  return callWhen(gw, id, (call) => call.endedAt !== null);
}

async function eventsOf(id: string, name?: string) {
  return (await gw.gateway.events.outbox.unackedAfter(0, 100_000)).filter(
    (event): event is CallOutboxEvent => event.callId === id && (name === undefined || event.event === name),
  );
}

/** The caller's audio from the first frame louder than AUDIBLE_DBFS, `ms` long (waits for it). */
async function audibleStretch(caller: Caller, ms: number): Promise<{ at: number; samples: Int16Array }> {
  const frames = (ms / 1000) * (RATE / 160);
  let start = -1;
  await until(async () => {
    start = caller.heard.findIndex(({ frame }) => rmsDbfs(frame) > AUDIBLE_DBFS);
    return start >= 0 && caller.heard.length >= start + frames;
  }, 30_000);
  const stretch = caller.heard.slice(start, start + frames);
  const samples = new Int16Array(stretch.length * 160);
  for (const [i, { frame }] of stretch.entries()) samples.set(frame, i * 160);
  return { at: stretch[0]?.at ?? 0, samples };
}

async function hangUpAndFinish(caller: Caller): Promise<any> {
  const response = await patch(caller.id, { callFlow: [{ command: 'hangup' }] });
  expect(response.status).toBe(200);
  assertAllCallsSucceeded(await caller.sipp, 1);
  caller.peer.close();
  return endedCall(caller.id);
}

describe('call flows', () => {
  it('plays a WAV file on a ringing call (answering it) at its frequency, unbroken, then hangs up', async () => {
    const caller = await callIn();
    await runFlow(caller.id, [
      { command: 'playback', url: join(files, 'tone725.wav') },
      { command: 'hangup' },
    ]);
    const { samples } = await audibleStretch(caller, 1800);
    const heard = analyseTone(samples.subarray(800), RATE);
    expect(Math.abs(heard.frequencyHz - 725)).toBeLessThanOrEqual(5);
    // The file lasts 2 s: 1.5 s of it from its first sound, unbroken as on a quiet machine.
    const continuity = expectContinuous(
      samples,
      { sampleRate: RATE, toneHz: 725, where: 'playback → caller' },
      { ...QUIET_MACHINE, windowMs: 1500 },
    );
    console.info(`playback → caller: ${continuity.summary}`);
    expect(heard.purity).toBeGreaterThan(0.8);
    assertAllCallsSucceeded(await caller.sipp, 1);
    caller.peer.close();
    const ended = await endedCall(caller.id);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(ended.answeredAt).not.toBeNull();
  });

  it('plays audio served over http; a URL that fails is skipped and the flow goes on', async () => {
    const caller = await callIn();
    await runFlow(caller.id, [
      { command: 'answer' },
      { command: 'playback', url: `${httpBase}/missing.wav` },
      { command: 'playback', url: `${httpBase}/tone500.wav` },
      { command: 'hangup' },
    ]);
    const { samples } = await audibleStretch(caller, 600);
    expect(Math.abs(analyseTone(samples.subarray(800), RATE).frequencyHz - 500)).toBeLessThanOrEqual(5);
    assertAllCallsSucceeded(await caller.sipp, 1);
    caller.peer.close();
    expect(await endedCall(caller.id)).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
  });

  it('pause holds the next verb back; say is heard as speech after the silence', async () => {
    const caller = await callIn();
    await runFlow(caller.id, [
      { command: 'answer' },
      { command: 'pause', durationMs: 1500 },
      { command: 'say', text: 'Hello. Thank you for calling. This is the gateway speaking.', voice: 'en-us' },
    ]);
    // The first packets after the answer are silence, for the whole pause.
    await until(async () => caller.heard.length > 0, 10_000);
    const answeredAt = caller.heard[0]?.at ?? 0;
    const speech = await audibleStretch(caller, 1500);
    expect(speech.at - answeredAt).toBeGreaterThanOrEqual(1300);
    const before = caller.heard.filter(({ at }) => at < speech.at - 100);
    expect(before.length).toBeGreaterThan(40);
    expect(Math.max(...before.map(({ frame }) => rmsDbfs(frame)))).toBeLessThan(QUIET_DBFS);
    // Speech: loud, not a tone, its energy in the voice band.
    expect(rmsDbfs(speech.samples)).toBeGreaterThan(-35);
    expect(analyseTone(speech.samples, RATE).purity).toBeLessThan(0.5);
    expect(bandShare(speech.samples, 300, 3400)).toBeGreaterThan(0.6);
    expect((await hangUpAndFinish(caller)).endReason).toBe('api_hangup');
  });

  it('gather ends at maxNumKeys, at the end key and on timeout, each with one calls.gather event', async () => {
    const caller = await callIn();
    await runFlow(caller.id, [
      {
        command: 'gather',
        maxNumKeys: 3,
        timeoutMs: 5000,
        prompt: { command: 'playback', url: join(files, 'tone725.wav'), loop: true },
      },
    ]);
    await audibleStretch(caller, 200);
    caller.peer.sendDigits('123');
    await until(async () => (await eventsOf(caller.id, 'calls.gather')).length === 1, 10_000);
    // The first digit stopped the looping prompt.
    const afterDigits = caller.heard.length;
    await until(async () => caller.heard.length > afterDigits + 25, 5_000);
    const tail = caller.heard.slice(-15);
    expect(Math.max(...tail.map(({ frame }) => rmsDbfs(frame)))).toBeLessThan(QUIET_DBFS);

    await runFlow(caller.id, [{ command: 'gather', maxNumKeys: 10, endKey: '#', timeoutMs: 5000 }]);
    caller.peer.sendDigits('45#');
    await until(async () => (await eventsOf(caller.id, 'calls.gather')).length === 2, 10_000);

    await runFlow(caller.id, [{ command: 'gather', maxNumKeys: 4, timeoutMs: 700 }]);
    caller.peer.sendDigits('7');
    await until(async () => (await eventsOf(caller.id, 'calls.gather')).length === 3, 10_000);

    expect((await eventsOf(caller.id, 'calls.gather')).map(({ data }) => [data.digits, data.reason])).toEqual(
      [
        ['123', 'maxNumKeys'],
        ['45', 'endKey'],
        ['7', 'timeout'],
      ],
    );
    expect((await eventsOf(caller.id, 'calls.gather'))[0]?.data.call).toMatchObject({ id: caller.id });
    await hangUpAndFinish(caller);
  });

  it('a new flow stops the playback of the one it replaces', async () => {
    const caller = await callIn();
    await runFlow(caller.id, [
      { command: 'answer' },
      { command: 'playback', url: join(files, 'tone900.wav'), loop: true },
    ]);
    const { samples } = await audibleStretch(caller, 300);
    expect(Math.abs(analyseTone(samples, RATE).frequencyHz - 900)).toBeLessThanOrEqual(5);
    await runFlow(caller.id, [{ command: 'pause', durationMs: 10_000 }]);
    const replacedAt = performance.now();
    await until(async () => (caller.heard.at(-1)?.at ?? 0) > replacedAt + 1500, 10_000);
    const later = caller.heard.filter(({ at }) => at > replacedAt + 300);
    expect(later.length).toBeGreaterThan(50);
    expect(Math.max(...later.map(({ frame }) => rmsDbfs(frame)))).toBeLessThan(QUIET_DBFS);
    await hangUpAndFinish(caller);
  });

  it('refuses bad flows: 400 naming the field, 409 once the call ended', async () => {
    const sipp = runSipp({
      scenario: 'uac-expect-final',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { expected: 486 },
      calls: 1,
    });
    const ringing = await theRingingCall(gw);
    const refused = async (callFlow: unknown[], status: number) => {
      const response = await patch(ringing.id, { callFlow });
      expect(response.status).toBe(status);
      return ((await response.json()) as any).error;
    };
    const bad = await refused(
      [
        { command: 'answer' },
        { command: 'pause', durationMs: 10 },
        { command: 'gather', maxNumKeys: 3, timeoutMs: 'soon' },
      ],
      400,
    );
    expect(bad.details.map((d: any) => d.field)).toEqual(['callFlow[2].timeoutMs']);
    expect((await refused([{ command: 'dance' }], 400)).details[0].field).toBe('callFlow[0].command');
    expect((await refused([{ command: 'playback', url: '/etc/passwd' }], 400)).details[0].field).toBe(
      'callFlow[0].url',
    );
    expect(
      (await refused([{ command: 'answer' }, { command: 'record', maxLengthSeconds: 0 }], 400)).details[0]
        .field,
    ).toBe('callFlow[1].maxLengthSeconds');
    // Nothing of a refused flow ran: the call still rings. A hangup verb refuses it with its code.
    expect((await api(gw, `/v1/calls/${ringing.id}`)).status).toBe('ringing');
    await runFlow(ringing.id, [{ command: 'ringing' }, { command: 'hangup', sipCode: 486 }]);
    const result = await sipp;
    assertAllCallsSucceeded(result, 1);
    // The ringing verb's 180 follows the one every inbound call gets.
    expect(result.messageLog.match(/^SIP\/2.0 180 /gm)).toHaveLength(2);
    expect(await endedCall(ringing.id)).toMatchObject({ status: 'busy', endReason: 'busy', sipStatus: 486 });
    expect(await refused([{ command: 'pause', durationMs: 10 }], 409)).toMatchObject({ code: 'conflict' });
  });

  it('record takes a message after a tone until the finish key, reports the file, and the flow goes on', async () => {
    const caller = await callIn();
    caller.peer.start({ frequencyHz: 600, amplitude: 0.3 });
    await runFlow(caller.id, [
      { command: 'answer' },
      { command: 'record', maxLengthSeconds: 20, finishOnKey: '#' },
      { command: 'hangup' },
    ]);
    // The tone that says "speak now", then a second and a half of message on the media clock.
    const { samples } = await audibleStretch(caller, 300);
    expect(Math.abs(analyseTone(samples, RATE).frequencyHz - 1000)).toBeLessThanOrEqual(10);
    const heardBefore = caller.heard.length;
    await until(async () => caller.heard.length > heardBefore + 75, 20_000);
    caller.peer.sendDigits('#');
    assertAllCallsSucceeded(await caller.sipp, 1);
    caller.peer.close();
    expect(await endedCall(caller.id)).toMatchObject({ status: 'completed', endReason: 'api_hangup' });

    const [event] = await eventsOf(caller.id, 'calls.recording.completed');
    const { recording, endedBy } = (event?.data ?? {}) as any;
    expect(endedBy).toBe('finishOnKey');
    // The app's default recordingFormat.
    expect(recording).toMatchObject({ format: 'mp4', reason: 'stopped' });
    expect(recording.durationMs).toBeGreaterThan(1000);
    expect(recording.durationMs).toBeLessThan(20_000);
    const probe = await probeRecording(recording.path);
    expect(probe.streams[0]?.codec_name).toBe('aac');
    const message = await decodeRecording(recording.path, RATE);
    expect(Math.abs(analyseTone(message, RATE).frequencyHz - 600)).toBeLessThanOrEqual(10);
    // The recordings API has it as the call's flow recording.
    expect(await api(gw, `/v1/recordings/${recording.id}`)).toMatchObject({
      callId: caller.id,
      kind: 'flow',
      state: 'completed',
      format: 'mp4',
    });
  });

  it('bridge dials a callee into the room: the caller hears it until maxDurationSeconds, then the flow goes on', async () => {
    const callee = await startSippServer({
      scenario: 'uas-answer-pcap',
      localPort: calleePort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const caller = await callIn();
    await runFlow(caller.id, [
      { command: 'answer' },
      { command: 'bridge', to: '+15550123', maxDurationSeconds: 3 },
      { command: 'hangup' },
    ]);
    // The callee's recorded speech reaches the caller through the room.
    const speech = await audibleStretch(caller, 1000);
    expect(rmsDbfs(speech.samples)).toBeGreaterThan(-45);
    // At its limit the callee gets a BYE (sipp's call completes), then the hangup verb runs.
    assertAllCallsSucceeded(await callee.exited, 1);
    assertAllCallsSucceeded(await caller.sipp, 1);
    caller.peer.close();
    const ended = await endedCall(caller.id);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(ended.duration).toBeGreaterThanOrEqual(3);
    const joined = (await eventsOf(caller.id, 'calls.participant.joined')).map(
      ({ data }) => (data as any).participant,
    );
    expect(joined).toContainEqual({ identity: `sip_${caller.id}_bridge_1` });
  });

  it('an accepted call with maxDurationSeconds ends with max_duration and one final event', async () => {
    const caller = await callIn();
    const accepted = await api(gw, `/v1/calls/${caller.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'accept', maxDurationSeconds: 2 }),
    });
    expect(accepted.status).toBe('in_progress');
    assertAllCallsSucceeded(await caller.sipp, 1);
    caller.peer.close();
    const ended = await endedCall(caller.id);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'max_duration' });
    expect(ended.duration).toBeGreaterThanOrEqual(2);
    expect(ended.duration).toBeLessThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const finals = (await eventsOf(caller.id)).filter(({ data }) => (data.call as any).endedAt !== null);
    expect(finals.map(({ event }) => event)).toEqual(['calls.completed']);
  });
});

/** Share of a block's energy between loHz and hiHz (a coarse Goertzel spectrum, 50 Hz apart). */
function bandShare(samples: Int16Array, loHz: number, hiHz: number): number {
  let inBand = 0;
  let total = 0;
  for (let start = 0; start + 1600 <= samples.length; start += 1600) {
    const block = samples.subarray(start, start + 1600);
    for (let f = 50; f < RATE / 2; f += 50) {
      const power = goertzelPower(block, f, RATE);
      total += power;
      if (f >= loHz && f <= hiHz) inBand += power;
    }
  }
  return total > 0 ? inBand / total : 0;
}
