import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recorder } from '../../../src/recording/Recorder.js';
import type { RecordingOutcome } from '../../../src/recording/recordingTypes.js';
import { goertzelPower, rmsDbfs, ToneGenerator } from '../../support/tone.js';

const run = promisify(execFile);
const RATE = 48_000;
const FRAME = 960;

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recorder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A recorder on a clock the test moves: `at` is the time of the next frame. */
async function recorder(options: { maxDurationMs?: number } = {}) {
  const clock = { at: 0 };
  const ended: RecordingOutcome[] = [];
  const path = join(dir, `r${++files}.ogg`);
  const rec = await Recorder.start({
    path,
    format: 'ogg',
    now: () => clock.at,
    onEnded: (outcome) => ended.push(outcome),
    ...options,
  });
  const tone = new ToneGenerator({ frequencyHz: 1000, amplitude: 0.3, sampleRate: RATE });
  /** `count` frames of tone, 20 ms apart. */
  const frames = (count: number): void => {
    for (let i = 0; i < count; i++) {
      clock.at += 20;
      rec.write(tone.next(FRAME), clock.at);
    }
  };
  return { rec, clock, ended, path, frames, tone };
}

async function decode(path: string): Promise<Int16Array> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-ar', String(RATE), '-'],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, Math.floor(stdout.length / 2));
}

const toneAt = (samples: Int16Array, fromS: number, toS: number): number =>
  2 * Math.sqrt(goertzelPower(samples.subarray(fromS * RATE, toS * RATE), 1000, RATE));

describe('Recorder', () => {
  it('fills time the clock skipped with silence, so the file lasts the wall time', async () => {
    const { rec, clock, frames, path } = await recorder();
    frames(50);
    // A stall the worker's clock gave up catching up: 2 s with no frames.
    clock.at += 2_000;
    frames(50);
    const outcome = await rec.stop();
    expect(outcome).toMatchObject({ reason: 'stopped', durationMs: 4_000, message: null });
    const samples = await decode(path);
    expect(samples.length / RATE).toBeCloseTo(4, 1);
    expect(toneAt(samples, 0.2, 0.9)).toBeGreaterThan(0.2);
    expect(rmsDbfs(samples.subarray(1.2 * RATE, 2.8 * RATE))).toBeLessThan(-60);
    expect(toneAt(samples, 3.2, 3.9)).toBeGreaterThan(0.2);
  });

  it('does not count a short catch-up twice: frames that arrive late in a burst fill the gap themselves', async () => {
    const { rec, clock, frames, tone } = await recorder();
    frames(25);
    // The clock stalls 100 ms, then runs the five missed ticks back to back, all at the same time.
    clock.at += 100;
    for (let i = 0; i < 5; i++) rec.write(tone.next(FRAME), clock.at);
    frames(20);
    expect((await rec.stop()).durationMs).toBe(clock.at);
  });

  it('a long stall filled with silence is not stretched by the catch-up ticks that follow it', async () => {
    const { rec, clock, frames, tone } = await recorder();
    for (let stall = 0; stall < 5; stall++) {
      frames(10);
      // The clock skips most of a second, then runs its five catch-up ticks at the same time.
      clock.at += 1_000;
      for (let i = 0; i < 5; i++) rec.write(tone.next(FRAME), clock.at);
    }
    frames(10);
    const { durationMs } = await rec.stop();
    expect(durationMs - clock.at).toBeGreaterThanOrEqual(0);
    expect(durationMs - clock.at).toBeLessThanOrEqual(60);
  });

  it('pads to the moment it is stopped', async () => {
    const { rec, clock, frames } = await recorder();
    frames(10);
    clock.at += 500;
    expect((await rec.stop()).durationMs).toBe(700);
  });

  it('ends itself at maxDurationMs, once, and a later stop gets the same outcome', async () => {
    const { rec, frames, ended, path } = await recorder({ maxDurationMs: 1_000 });
    frames(80);
    const outcome = await rec.stop();
    expect(outcome).toMatchObject({ reason: 'max_duration', durationMs: 1_000, path });
    expect(ended).toEqual([outcome]);
    expect(await rec.stop('session_closed')).toBe(outcome);
    expect((await decode(path)).length / RATE).toBeCloseTo(1, 1);
  });
});
