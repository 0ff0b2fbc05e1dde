import { describe, expect, it } from 'vitest';
import { AudioProbe } from '../../../bench/media/audioProbe.js';
import { ToneGenerator } from '../../support/tone.js';

/**
 * The media benchmark's verdicts rest on this probe: a steady tone must read as clean, a lost
 * frame as one bad block, a 60 ms hole in arrivals as a late frame, and a burst's onset must be
 * placed at its first loud sample.
 */
const RATE = 8000;
const FRAME = 160;

function feed(probe: AudioProbe, frames: Int16Array[], arrivals: number[]): void {
  for (const [i, frame] of frames.entries()) probe.push(frame, arrivals[i] ?? 0);
}

function toneFrames(count: number): Int16Array[] {
  const tone = new ToneGenerator({ frequencyHz: 440, amplitude: 0.3, sampleRate: RATE });
  return Array.from({ length: count }, () => tone.next(FRAME));
}

const every20ms = (count: number, from = 1000) => Array.from({ length: count }, (_, i) => from + i * 20);

describe('the media benchmark audio probe', () => {
  it('reads a steady tone as clean, at its level and pure', () => {
    const probe = new AudioProbe(RATE, 440, -13.5);
    feed(probe, toneFrames(50), every20ms(50));
    const window = probe.read();
    expect(window).toMatchObject({ frames: 50, lateFrames: 0, blocks: 10, badBlocks: 0 });
    expect(window.medianToneDbfs).toBeCloseTo(-13.5, 0);
    expect(window.medianPurity).toBeGreaterThan(0.99);
  });

  it('counts a frame lost to silence as one bad block', () => {
    const probe = new AudioProbe(RATE, 440, -13.5);
    const frames = toneFrames(50);
    frames[22] = new Int16Array(FRAME);
    feed(probe, frames, every20ms(50));
    expect(probe.read().badBlocks).toBe(1);
  });

  it('counts a frame arriving 60 ms after the one before as late', () => {
    const probe = new AudioProbe(RATE, 440, -13.5);
    const arrivals = every20ms(50).map((at, i) => (i >= 30 ? at + 40 : at));
    feed(probe, toneFrames(50), arrivals);
    expect(probe.read()).toMatchObject({ lateFrames: 1, maxGapMs: 60 });
  });

  it("places a burst's onset at its first loud sample, counting the frame as ending on arrival", () => {
    const probe = new AudioProbe(RATE, 1000, -13.5);
    const frames = Array.from({ length: 20 }, () => new Int16Array(FRAME));
    const burst = new ToneGenerator({ frequencyHz: 1000, amplitude: 0.3, sampleRate: RATE }).next(FRAME * 5);
    // The burst starts 80 samples (10 ms) into frame 15.
    const onsetFrame = frames[15] as Int16Array;
    onsetFrame.set(burst.subarray(0, 80), 80);
    for (let i = 16; i < 20; i++)
      (frames[i] as Int16Array).set(burst.subarray((i - 15) * FRAME - 80, (i - 14) * FRAME - 80));
    feed(probe, frames, every20ms(20));
    expect(probe.onsets).toHaveLength(1);
    // Frame 15 arrives at 1300 ms and spans 1280–1300; the first sample above the threshold is
    // the burst's second (sin of 1 kHz at 8 kHz reaches 0.21 of full scale one sample in).
    expect(probe.onsets[0]).toBeGreaterThanOrEqual(1290);
    expect(probe.onsets[0]).toBeLessThan(1291);
  });
});
