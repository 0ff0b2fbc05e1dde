import { describe, expect, it } from 'vitest';
import { createCodec } from '../../src/media/codecs/createCodec.js';
import { compareWithSource, measureContinuity } from '../support/audioContinuity.js';
import { pcapAudio } from '../support/pcapSpeech.js';
import { ToneGenerator } from '../support/tone.js';

const tone = (frequencyHz: number, sampleRate: number, ms: number, amplitude = 0.3): Int16Array =>
  new ToneGenerator({ frequencyHz, sampleRate, amplitude }).next((sampleRate * ms) / 1000);

/** The tone with `every` ms of it passed through `damage`, one 20 ms frame at a time. */
function withFrames(
  samples: Int16Array,
  sampleRate: number,
  everyMs: number,
  damage: (frame: Int16Array, previous: Int16Array) => Int16Array | null,
): Int16Array {
  const frame = sampleRate / 50;
  const out: number[] = [];
  let previous = samples.subarray(0, frame);
  for (let at = 0, ms = 0; at + frame <= samples.length; at += frame, ms += 20) {
    const current = samples.subarray(at, at + frame);
    const damaged = ms > 0 && ms % everyMs === 0 ? damage(current, previous) : current;
    if (damaged) out.push(...damaged);
    previous = current;
  }
  return Int16Array.from(out);
}

describe('audio continuity', () => {
  it.each([
    [440, 48_000],
    [1025, 8000],
    [440, 16_000],
  ])('passes a clean %d Hz tone at %d Hz: no gap, no damaged frame', (hz, rate) => {
    const report = measureContinuity(tone(hz, rate, 3500), { sampleRate: rate, toneHz: hz });
    expect(report.windowMs, report.summary).toBe(3000);
    expect(report.firstSoundMs).toBeLessThan(1);
    expect(report.longestGapMs, report.summary).toBe(0);
    expect(report.damagedFrames, report.summary).toBe(0);
    expect(report.levelDbfs).toBeCloseTo(20 * Math.log10(0.3 / Math.SQRT2), 0);
  });

  it('passes a tone through G.711 (its quantisation noise is not damage)', () => {
    const codec = createCodec('PCMU', { payloadType: 0 });
    const clean = tone(1025, 8000, 3500);
    const decoded = new Int16Array(clean.length);
    for (let at = 0; at < clean.length; at += 160) {
      decoded.set(codec.decode(codec.encode(clean.subarray(at, at + 160))), at);
    }
    const report = measureContinuity(decoded, { sampleRate: 8000, toneHz: 1025 });
    expect(report.longestGapMs, report.summary).toBe(0);
    expect(report.damagedFrames, report.summary).toBe(0);
  });

  it('fails a tone with one 60 ms hole: the gap is measured to the millisecond', () => {
    const samples = tone(440, 48_000, 3500);
    samples.fill(0, 48 * 1500, 48 * 1560);
    const report = measureContinuity(samples, { sampleRate: 48_000, toneHz: 440 });
    expect(report.longestGapMs, report.summary).toBeGreaterThan(59);
    expect(report.longestGapMs, report.summary).toBeLessThan(61.5);
    expect(report.gaps).toHaveLength(1);
    expect(report.gaps[0]?.atMs).toBeCloseTo(1500, -1);
    expect(report.damagedFrames, report.summary).toBe(3);
    expect(report.summary).toContain('longest gap');
  });

  it('finds a hole without a known tone (speech, noise) too, but no damaged frames', () => {
    const samples = tone(440, 48_000, 3500);
    samples.fill(0, 48 * 1000, 48 * 1045);
    const report = measureContinuity(samples, { sampleRate: 48_000 });
    expect(report.longestGapMs).toBeGreaterThan(44);
    expect(report.longestGapMs).toBeLessThan(46.5);
    expect(report.damagedFrames).toBe(0);
  });

  it('fails a tone that loses a 20 ms frame every 200 ms, though it has no gap', () => {
    const samples = withFrames(tone(440, 8000, 3800), 8000, 200, () => null);
    const report = measureContinuity(samples, { sampleRate: 8000, toneHz: 440 });
    expect(report.longestGapMs, report.summary).toBe(0);
    // 3 s of what is left spans 3.33 s of the sent tone: 16 frames lost in it.
    expect(report.damagedFrames, report.summary).toBeGreaterThanOrEqual(14);
    expect(report.damagedPerSecond).toBeGreaterThan(4);
  });

  it('fails a tone with a concealed frame every 200 ms: a repeated frame, or a faded one', () => {
    const repeated = withFrames(tone(1025, 8000, 3500), 8000, 200, (_frame, previous) => previous);
    const faded = withFrames(tone(440, 48_000, 3500), 48_000, 200, (frame) =>
      frame.map((v) => Math.round(v / 4)),
    );
    const zeroed = withFrames(tone(440, 48_000, 3500), 48_000, 200, (frame) => new Int16Array(frame.length));
    for (const [samples, rate, hz] of [
      [repeated, 8000, 1025],
      [faded, 48_000, 440],
      [zeroed, 48_000, 440],
    ] as const) {
      const report = measureContinuity(samples, { sampleRate: rate, toneHz: hz });
      expect(report.damagedFrames, report.summary).toBeGreaterThanOrEqual(14);
      expect(report.damagedFrames, report.summary).toBeLessThanOrEqual(16);
    }
  });

  it('counts one broken frame as one', () => {
    // Frames at 1.5 s and 3 s are repeated; the second lies past the 3 s window.
    const samples = withFrames(tone(1025, 8000, 3500), 8000, 1500, (_frame, previous) => previous);
    const report = measureContinuity(samples, { sampleRate: 8000, toneHz: 1025 });
    expect(report.damagedFrames, report.summary).toBe(1);
    expect(report.damage.map((event) => event.frames)).toEqual([1]);
    expect(Math.abs((report.damage[0]?.atMs ?? 0) - 1500)).toBeLessThanOrEqual(3);
    expect(report.damage[0]?.phaseBreakDeg).toBeGreaterThan(150);
  });

  it('measures a tone that starts late from its first sound', () => {
    const late = new Int16Array(48 * 3700);
    late.set(tone(440, 48_000, 3000), 48 * 700);
    const report = measureContinuity(late, { sampleRate: 48_000, toneHz: 440 });
    expect(report.firstSoundMs).toBeCloseTo(700, -1);
    expect(report.windowMs).toBe(3000);
    expect(report.longestGapMs, report.summary).toBe(0);
    expect(report.damagedFrames, report.summary).toBe(0);
  });

  it('judges a tone that fades in from where it is within 6 dB of its level', () => {
    const samples = tone(440, 48_000, 3500);
    // 200 ms from -40 dB to full level, as a WebRTC receiver brings in a new stream.
    for (let i = 0; i < 48 * 200; i++)
      samples[i] = Math.round((samples[i] as number) * 10 ** ((-40 * (1 - i / (48 * 200))) / 20));
    const report = measureContinuity(samples, { sampleRate: 48_000, toneHz: 440 });
    expect(report.firstSoundMs).toBeGreaterThan(165);
    expect(report.firstSoundMs).toBeLessThan(176);
    expect(report.longestGapMs, report.summary).toBe(0);
    expect(report.damagedFrames, report.summary).toBe(0);
  });

  it('says how much it judged when the recording is shorter than the window', () => {
    const report = measureContinuity(tone(440, 48_000, 1200), { sampleRate: 48_000, toneHz: 440 });
    expect(report.windowMs).toBe(1200);
    expect(report.summary).toMatch(/^1200 ms judged/);
  });

  it('reports a recording with no sound as such', () => {
    const report = measureContinuity(new Int16Array(48_000), { sampleRate: 48_000, toneHz: 440 });
    expect(report).toMatchObject({ firstSoundMs: -1, windowMs: 0, summary: 'no sound at all' });
  });

  it('cannot see a whole number of periods dropped: 20 ms of a 1 kHz tone', () => {
    const samples = withFrames(tone(1000, 8000, 3500), 8000, 200, () => null);
    expect(measureContinuity(samples, { sampleRate: 8000, toneHz: 1000 }).damagedFrames).toBe(0);
  });
});

describe('received speech compared with its source', () => {
  /** Speech-like: 440 Hz bursts and pauses of uneven lengths (100–400 ms), the same at any rate. */
  const speech = (rate: number, ms: number): Int16Array => {
    const samples = tone(440, rate, ms);
    let seed = 7;
    let talking = true;
    for (let at = 0; at < samples.length; talking = !talking) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const length = Math.round((rate * (100 + ((seed >> 16) % 300))) / 1000);
      if (!talking) samples.fill(0, at, at + length);
      at += length;
    }
    return samples;
  };
  const source = speech(8000, 7000);

  it('lines a received stretch up with the source and finds no dropout in its pauses', () => {
    const received = speech(48_000, 7000).subarray(48 * 1234, 48 * 4234);
    const comparison = compareWithSource(received, 48_000, source, 8000);
    expect(Math.abs(comparison.offsetMs - 1234)).toBeLessThanOrEqual(5);
    expect(comparison.correlation).toBeGreaterThan(0.9);
    expect(comparison.longestDropoutMs, comparison.summary).toBe(0);
  });

  it('finds a 60 ms hole where the source speaks', () => {
    const received = Int16Array.from(speech(48_000, 7000).subarray(48 * 1000, 48 * 4000));
    received.fill(0, 48 * 1100, 48 * 1160);
    const comparison = compareWithSource(received, 48_000, source, 8000);
    expect(comparison.longestDropoutMs, comparison.summary).toBeGreaterThanOrEqual(55);
    expect(comparison.longestDropoutMs, comparison.summary).toBeLessThanOrEqual(60);
  });

  it('decodes sipp’s speech pcap as the source: 7 s with pauses of its own', () => {
    const pcap = pcapAudio();
    expect(pcap.length / 8000).toBeCloseTo(7.08, 1);
    const itself = compareWithSource(pcap.subarray(8000, 4 * 8000), 8000, pcap, 8000);
    expect(itself.offsetMs).toBe(1000);
    expect(itself.longestDropoutMs).toBe(0);
  });

  it('does not line a steady tone or silence up with the pcap’s speech', () => {
    const pcap = pcapAudio();
    expect(compareWithSource(tone(440, 48_000, 3000), 48_000, pcap, 8000).correlation).toBeLessThan(0.5);
    expect(compareWithSource(new Int16Array(48 * 3000), 48_000, pcap, 8000).correlation).toBeLessThan(0.5);
  });
});
