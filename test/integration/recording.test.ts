import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY } from '../../src/media/session/rtpWorkerEntryName.js';
import {
  type MediaSession,
  type RecordingEndedEvent,
  type SessionClosedInfo,
  WorkerPool,
  type WorkerPoolOptions,
  workerEntryPath,
} from '../../src/media/workers/index.js';
import type { RecordingFormat } from '../../src/recording/recordingTypes.js';
import { decodeRecording, probeRecording } from '../support/recordingFiles.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { analyseTone, goertzelPower, rmsDbfs } from '../support/tone.js';

const RATE = 48_000;
/** What the peer sends: a 1 kHz tone at this peak amplitude (PCMU). */
const TONE_AMPLITUDE = 0.3;
const CODEC_OF: Record<RecordingFormat, string> = { ogg: 'opus', webm: 'opus', mp4: 'aac' };
const CONTAINER_OF: Record<RecordingFormat, string> = { ogg: 'ogg', webm: 'webm', mp4: 'mp4' };

let dir: string;
let pool: WorkerPool;
const pools: WorkerPool[] = [];
const cleanup: (() => unknown)[] = [];

function newPool(overrides: Partial<WorkerPoolOptions> = {}): WorkerPool {
  // Below the kernel's ephemeral ports (32768+), above the other media tests' blocks.
  const base = 30_000 + Math.floor(Math.random() * 27) * 100;
  const created = new WorkerPool({
    entryFile: workerEntryPath(RTP_WORKER_ENTRY),
    workers: 1,
    portRange: { min: base, max: base + 99 },
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    codecs: ['PCMU', 'opus', 'telephone-event'],
    timeoutInitialSeconds: 30,
    timeoutSeconds: 15,
    maxSessionsPerWorker: 10,
    requestTimeoutMs: 15_000,
    // A worker loads rtc-node's native library at start; on a loaded machine that is slow.
    startTimeoutMs: 30_000,
    recording: { dir },
    ...overrides,
  });
  pools.push(created);
  return created;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recordings-'));
  pool = newPool();
  await pool.start();
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await rm(dir, { recursive: true, force: true });
});

let calls = 0;

interface Call {
  peer: RtpPeer;
  session: MediaSession;
  callId: string;
  /** The session's recordingEnded events, in order; `ended(id)` waits for one. */
  ended: (recordingId: string) => Promise<RecordingEndedEvent>;
  /** recordingEnded and closed, in the order they came. */
  order: string[];
}

/** A call with no room (as voicemail has): the peer sends a 1 kHz tone from the start. */
async function call(on: WorkerPool = pool): Promise<Call> {
  const callId = `call_rec_${++calls}`;
  const peer = await RtpPeer.open('PCMU');
  cleanup.push(() => peer.close());
  const { session, localSdp } = await on.createSession({ remoteOffer: peer.offer(), callId });
  cleanup.push(() => session.close());
  const events: RecordingEndedEvent[] = [];
  const waiters: (() => void)[] = [];
  const order: string[] = [];
  // Listening from the start: an event may come right behind a command's answer.
  session.on('recordingEnded', (event) => {
    events.push(event);
    order.push('recordingEnded');
    for (const wake of waiters.splice(0)) wake();
  });
  session.on('closed', () => order.push('closed'));
  const ended = async (recordingId: string): Promise<RecordingEndedEvent> => {
    for (;;) {
      const found = events.find((e) => e.recordingId === recordingId);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const firstPacket = once(session, 'firstPacket');
  peer.useRemoteSdp(localSdp);
  peer.start({ frequencyHz: 1000, amplitude: TONE_AMPLITUDE });
  await firstPacket;
  return { peer, session, callId, ended, order };
}

/** Lets `frames` 20 ms frames of the call go by, counted on the packets the worker sends the peer. */
function framesPass(peer: RtpPeer, frames: number): Promise<void> {
  return peer.untilAudioPackets(frames);
}

function closedOf(session: MediaSession): Promise<SessionClosedInfo> {
  const info = session.closeInfo;
  if (info) return Promise.resolve(info);
  return once(session, 'closed').then(([closed]) => closed as SessionClosedInfo);
}

const probe = probeRecording;
/** The file's audio as 48 kHz mono, decoded by ffmpeg. */
const decode = (path: string) => decodeRecording(path, RATE);

const dbfs = (amplitude: number): number => 20 * Math.log10(amplitude / Math.SQRT2);
/** 100 ms blocks from 0.3 s on: the first frames carry the encoder's priming and the jitter buffer's start. */
function blocksOf(samples: Int16Array): Int16Array[] {
  const blocks: Int16Array[] = [];
  for (let at = 0.3 * RATE; at + RATE / 10 <= samples.length; at += RATE / 10) {
    blocks.push(samples.subarray(at, at + RATE / 10));
  }
  return blocks;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * A sine's peak amplitude at `hz` (Goertzel power is A²/4) in the file's louder blocks (the 90th
 * percentile over 100 ms blocks). Blocks, not the whole file: on a machine loaded enough that the
 * worker's clock skips time, the file holds silence there (as the call did), and a phase jump
 * would lower a long Goertzel without lowering what is heard.
 */
function amplitudeAt(samples: Int16Array, hz: number): number {
  const amplitudes = blocksOf(samples).map((block) => 2 * Math.sqrt(goertzelPower(block, hz, RATE)));
  amplitudes.sort((a, b) => a - b);
  return amplitudes[Math.floor(0.9 * (amplitudes.length - 1))] ?? 0;
}

/** The 1 kHz tone is in the file at the level the peer sent it: judged on its blocks with sound. */
async function expectTone(path: string): Promise<void> {
  const audible = blocksOf(await decode(path)).filter((block) => rmsDbfs(block) > dbfs(TONE_AMPLITUDE) - 10);
  expect(audible.length).toBeGreaterThanOrEqual(5);
  const tones = audible.map((block) => analyseTone(block, RATE));
  const tone = {
    frequencyHz: median(tones.map((t) => t.frequencyHz)),
    levelDbfs: median(tones.map((t) => t.levelDbfs)),
    purity: median(tones.map((t) => t.purity)),
  };
  console.info(
    `${basename(path)}: ${tone.frequencyHz} Hz, ${tone.levelDbfs.toFixed(1)} dBFS, purity ${tone.purity.toFixed(2)} ` +
      `(${audible.length} blocks of 100 ms with sound)`,
  );
  expect(Math.abs(tone.frequencyHz - 1000)).toBeLessThanOrEqual(10);
  expect(tone.levelDbfs).toBeGreaterThan(dbfs(TONE_AMPLITUDE) - 4);
  expect(tone.levelDbfs).toBeLessThan(dbfs(TONE_AMPLITUDE) + 3);
  expect(tone.purity).toBeGreaterThan(0.7);
}

/** Whether a process (the ffmpeg writing it) has `path` on its command line. */
async function ffmpegRunning(path: string): Promise<boolean> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(path)) return true;
  }
  return false;
}

/** Waits (bounded by the test's timeout) until the ffmpeg writing `path` has exited. */
async function untilFfmpegGone(path: string): Promise<void> {
  while (await ffmpegRunning(path)) await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('call recording in the media worker (real ffmpeg)', () => {
  it.each(['ogg', 'webm', 'mp4'] as RecordingFormat[])(
    "records the caller's 1 kHz tone as %s, as long as the recording ran",
    async (format) => {
      const { peer, session, callId, ended } = await call();
      const beforeStart = performance.now();
      const started = await session.startRecording({ format, tracks: 'caller' });
      const afterStart = performance.now();
      expect(started.path).toBe(join(dir, `${callId}-${started.recordingId}.${format}`));
      await framesPass(peer, 150);
      const beforeStop = performance.now();
      const stopped = await session.stopRecording(started.recordingId);
      const afterStop = performance.now();
      const event = await ended(started.recordingId);
      expect(event).toMatchObject({ ...stopped, reason: 'stopped', message: null, sessionId: session.id });
      expect(stopped).toMatchObject({ path: started.path, format });
      expect(stopped.bytes).toBeGreaterThan(1000);
      // The answer waits for ffmpeg to finish: nothing is left running.
      expect(await ffmpegRunning(started.path)).toBe(false);
      // The recording ran somewhere between the answer to start and the stop request.
      const shortestMs = beforeStop - afterStart;
      const longestMs = afterStop - beforeStart;
      expect(stopped.durationMs).toBeGreaterThanOrEqual(shortestMs - 500);
      expect(stopped.durationMs).toBeLessThanOrEqual(longestMs + 500);

      const probed = await probe(started.path);
      const seconds = Number(probed.format.duration);
      console.info(
        `${format}: ${probed.format.format_name}, ${probed.streams[0]?.codec_name}, ${seconds} s ` +
          `(recorded ${stopped.durationMs} ms, wall ${Math.round(shortestMs)}–${Math.round(longestMs)} ms), ${stopped.bytes} bytes`,
      );
      expect(probed.format.format_name).toContain(CONTAINER_OF[format]);
      expect(probed.streams).toHaveLength(1);
      expect(probed.streams[0]).toMatchObject({
        codec_type: 'audio',
        codec_name: CODEC_OF[format],
        channels: 1,
      });
      expect(seconds).toBeGreaterThanOrEqual(shortestMs / 1000 - 0.5);
      expect(seconds).toBeLessThanOrEqual(longestMs / 1000 + 0.5);
      await expectTone(started.path);
      expect(session.closed).toBe(false);
    },
  );

  it("tracks 'both' mixes in what the caller hears; 'caller' keeps the caller alone", async () => {
    const { peer, session, ended } = await call();
    const both = await session.startRecording({ format: 'ogg', tracks: 'both' });
    const caller = await session.startRecording({ format: 'ogg', tracks: 'caller' });
    // What the caller hears: a 440 Hz prompt played toward the SIP leg.
    await session.play({
      source: { kind: 'tone', frequencyHz: 440, durationMs: 10_000 },
      target: 'sip',
      loop: false,
    });
    await framesPass(peer, 100);
    await Promise.all([session.stopRecording(both.recordingId), session.stopRecording(caller.recordingId)]);
    expect((await ended(both.recordingId)).reason).toBe('stopped');

    const mixed = await decode(both.path);
    const alone = await decode(caller.path);
    const levels = {
      both: { caller: amplitudeAt(mixed, 1000), heard: amplitudeAt(mixed, 440) },
      caller: { caller: amplitudeAt(alone, 1000), heard: amplitudeAt(alone, 440) },
    };
    console.info('1 kHz (caller) and 440 Hz (heard) amplitudes', levels);
    expect(levels.both.caller).toBeGreaterThan(TONE_AMPLITUDE * 0.6);
    // Playback tones peak at 0.5.
    expect(levels.both.heard).toBeGreaterThan(0.5 * 0.6);
    expect(levels.caller.caller).toBeGreaterThan(TONE_AMPLITUDE * 0.6);
    expect(levels.caller.heard).toBeLessThan(0.02);
  });

  it('ends by itself at maxDurationMs with reason max_duration', async () => {
    const { session, ended } = await call();
    const started = await session.startRecording({ format: 'webm', tracks: 'caller', maxDurationMs: 1_000 });
    const event = await ended(started.recordingId);
    expect(event).toMatchObject({
      reason: 'max_duration',
      durationMs: 1_000,
      path: started.path,
      format: 'webm',
    });
    // A stop that comes after the end answers with the same file.
    expect(await session.stopRecording(started.recordingId)).toEqual({
      path: event.path,
      format: event.format,
      durationMs: event.durationMs,
      bytes: event.bytes,
    });
    const seconds = Number((await probe(started.path)).format.duration);
    expect(Math.abs(seconds - 1)).toBeLessThanOrEqual(0.5);
    expect(session.closed).toBe(false);
  });

  it('a session closed mid-recording ends it (session_closed) before it closes, with a playable file', async () => {
    const { peer, session, ended, order } = await call();
    const started = await session.startRecording({ format: 'mp4', tracks: 'caller' });
    await framesPass(peer, 100);
    await session.close();
    const event = await ended(started.recordingId);
    expect(event.reason).toBe('session_closed');
    expect(order).toEqual(['recordingEnded', 'closed']);
    expect(await ffmpegRunning(started.path)).toBe(false);
    expect(event.durationMs).toBeGreaterThan(1_000);
    const probed = await probe(started.path);
    expect(Number(probed.format.duration)).toBeGreaterThan(1);
    await expectTone(started.path);
  });

  it('a session that ends by itself (media timeout) sends recordingEnded before sessionClosed', async () => {
    const short = newPool({ timeoutInitialSeconds: 5, timeoutSeconds: 1 });
    await short.start();
    const { peer, session, ended, order } = await call(short);
    const started = await session.startRecording({ format: 'ogg', tracks: 'caller' });
    await framesPass(peer, 50);
    peer.stop();
    const closed = await closedOf(session);
    expect(closed.reason).toBe('media_timeout');
    expect((await ended(started.recordingId)).reason).toBe('session_closed');
    expect(order).toEqual(['recordingEnded', 'closed']);
    expect(Number((await probe(started.path)).format.duration)).toBeGreaterThan(0.5);
    for (const status of await short.workerStatuses())
      expect(status).toMatchObject({ sessions: 0, portsInUse: 0 });
  });

  it('a worker killed mid-recording leaves playable files: ffmpeg finishes them on EOF', async () => {
    const own = newPool();
    await own.start();
    const { peer, session } = await call(own);
    const recordings = await Promise.all(
      (['ogg', 'webm', 'mp4'] as RecordingFormat[]).map((format) =>
        session.startRecording({ format, tracks: 'caller' }),
      ),
    );
    await framesPass(peer, 100);
    const pid = own.workers()[session.workerIndex]?.pid as number;
    process.kill(pid, 'SIGKILL');
    expect((await closedOf(session)).reason).toBe('media_error');
    for (const { path } of recordings) {
      await untilFfmpegGone(path);
      const probed = await probe(path);
      const seconds = Number(probed.format.duration);
      console.info(`after SIGKILL: ${basename(path)} ${probed.format.format_name} ${seconds} s`);
      expect(seconds).toBeGreaterThan(1);
      await expectTone(path);
    }
  });

  it('refuses a format or tracks it does not know, and a recording it does not have', async () => {
    const { session } = await call();
    await expect(
      session.startRecording({ format: 'wav' as RecordingFormat, tracks: 'caller' }),
    ).rejects.toMatchObject({ code: 'bad_request' });
    await expect(
      session.startRecording({ format: 'ogg', tracks: 'everyone' as 'both' }),
    ).rejects.toMatchObject({ code: 'bad_request' });
    await expect(session.stopRecording('rec_0000')).rejects.toMatchObject({ code: 'bad_request' });
    expect(session.closed).toBe(false);
  });

  it('an ffmpeg that cannot start fails the command; one that fails ends the recording with error; the call goes on', async () => {
    const missing = newPool({ recording: { dir, ffmpegPath: join(dir, 'no-such-ffmpeg') } });
    const failing = newPool({ recording: { dir, ffmpegPath: '/bin/false' } });
    await Promise.all([missing.start(), failing.start()]);

    const first = await call(missing);
    await expect(first.session.startRecording({ format: 'ogg', tracks: 'caller' })).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringContaining('could not start'),
    });

    const second = await call(failing);
    const started = await second.session.startRecording({ format: 'ogg', tracks: 'caller' });
    const event = await second.ended(started.recordingId);
    expect(event.reason).toBe('error');
    expect(event.message).toContain('exited with code 1');

    for (const { peer, session } of [first, second]) {
      await framesPass(peer, 25);
      expect(session.closed).toBe(false);
    }
  });
});
