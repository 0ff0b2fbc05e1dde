import { describe, expect, it } from 'vitest';
import { Resampler } from '../../../src/media/codecs/index.js';
import { analyseTone, goertzelPower, ToneGenerator } from '../../support/tone.js';

/** Resamples `seconds` of a tone in 20 ms blocks, as the media path does, and returns the output. */
function resampleTone(
  inputRate: number,
  outputRate: number,
  frequencyHz: number,
  seconds: number,
): Int16Array {
  const resampler = new Resampler({ inputRate, outputRate });
  const tone = new ToneGenerator({ frequencyHz, sampleRate: inputRate, amplitude: 0.5 });
  const block = inputRate / 50;
  const blocks = Math.round(seconds * 50);
  const out = new Int16Array(Math.round((seconds * outputRate) / 1) + outputRate);
  let written = 0;
  for (let i = 0; i < blocks; i++) {
    const result = resampler.process(tone.next(block));
    expect(result.length).toBe(outputRate / 50);
    out.set(result, written);
    written += result.length;
  }
  return out.subarray(0, written);
}

const levelOf = (amplitude: number) => 20 * Math.log10(amplitude / Math.SQRT2);

describe('Resampler', () => {
  it.each([
    [8000, 48000],
    [16000, 48000],
    [48000, 8000],
    [48000, 16000],
  ])('keeps a 1 kHz tone from %d Hz to %d Hz: frequency ±1 Hz, level within 1 dB', (from, to) => {
    // Skip the first 100 ms: the filter's delay line starts empty.
    const out = resampleTone(from, to, 1000, 1.1).subarray(to / 10);
    const analysis = analyseTone(out, to);
    expect(Math.abs(analysis.frequencyHz - 1000)).toBeLessThanOrEqual(1);
    expect(Math.abs(analysis.levelDbfs - levelOf(0.5))).toBeLessThanOrEqual(1);
    expect(analysis.purity).toBeGreaterThan(0.99);
  });

  it.each([
    // Downsampling: a tone above the new Nyquist would fold to (to - f); it must be filtered out.
    [48000, 8000, 5000, 3000],
    [48000, 8000, 7000, 1000],
    [48000, 16000, 9000, 7000],
    [48000, 16000, 12000, 4000],
  ])(
    'suppresses aliases %d → %d Hz: %d Hz does not fold to %d Hz (below -40 dB)',
    (from, to, tone, alias) => {
      const out = resampleTone(from, to, tone, 1.1).subarray(to / 10);
      const reference = 0.25 * 0.25; // Goertzel power of the 0.5-amplitude input tone
      const aliasPower = goertzelPower(out, alias, to);
      expect(10 * Math.log10(aliasPower / reference)).toBeLessThan(-40);
    },
  );

  it.each([
    // Upsampling: images of a 1 kHz tone appear at k·fs ± 1 kHz unless filtered.
    [8000, 48000, [7000, 9000, 15000]],
    [16000, 48000, [15000, 17000]],
  ])('suppresses images when upsampling %d → %d Hz (below -40 dB)', (from, to, images) => {
    const out = resampleTone(from, to, 1000, 1.1).subarray(to / 10);
    const wanted = goertzelPower(out, 1000, to);
    for (const image of images as number[]) {
      expect(10 * Math.log10(goertzelPower(out, image, to) / wanted)).toBeLessThan(-40);
    }
  });

  it('carries stereo channels independently', () => {
    const resampler = new Resampler({ inputRate: 16000, outputRate: 48000, channels: 2 });
    const left = new ToneGenerator({ frequencyHz: 500, sampleRate: 16000, amplitude: 0.5 });
    const right = new ToneGenerator({ frequencyHz: 1500, sampleRate: 16000, amplitude: 0.5 });
    const outLeft: number[] = [];
    const outRight: number[] = [];
    for (let block = 0; block < 30; block++) {
      const l = left.next(320);
      const r = right.next(320);
      const interleaved = new Int16Array(640);
      for (let i = 0; i < 320; i++) {
        interleaved[2 * i] = l[i] as number;
        interleaved[2 * i + 1] = r[i] as number;
      }
      const out = resampler.process(interleaved);
      expect(out.length).toBe(1920);
      for (let i = 0; i < 960; i++) {
        outLeft.push(out[2 * i] as number);
        outRight.push(out[2 * i + 1] as number);
      }
    }
    expect(Math.abs(analyseTone(outLeft.slice(4800), 48000).frequencyHz - 500)).toBeLessThanOrEqual(1);
    expect(Math.abs(analyseTone(outRight.slice(4800), 48000).frequencyHz - 1500)).toBeLessThanOrEqual(1);
  });

  it('passes audio through unchanged at equal rates and rejects non-integer ratios', () => {
    const same = new Resampler({ inputRate: 48000, outputRate: 48000 });
    const input = Int16Array.of(1, 2, 3);
    expect(same.process(input)).toBe(input);
    expect(() => new Resampler({ inputRate: 44100, outputRate: 48000 })).toThrow(RangeError);
  });
});
