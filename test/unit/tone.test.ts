import { describe, expect, it } from 'vitest';
import { analyseTone, ToneGenerator } from '../support/tone.js';

describe('tone analysis', () => {
  it.each([
    [440, 48_000],
    [1000, 8000],
    [1004, 16_000],
  ])('finds a %d Hz tone at %d Hz sampling within 1 Hz, with its level', (frequencyHz, sampleRate) => {
    const samples = new ToneGenerator({ frequencyHz, sampleRate, amplitude: 0.25 }).next(sampleRate);
    const analysis = analyseTone(samples, sampleRate);
    expect(Math.abs(analysis.frequencyHz - frequencyHz)).toBeLessThanOrEqual(1);
    expect(analysis.levelDbfs).toBeCloseTo(20 * Math.log10(0.25 / Math.SQRT2), 1);
    expect(analysis.purity).toBeGreaterThan(0.95);
  });

  it('tells noise from a tone', () => {
    let seed = 1;
    const noise = Int16Array.from({ length: 8000 }, () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed % 20000) - 10000;
    });
    expect(analyseTone(noise, 8000).purity).toBeLessThan(0.05);
  });

  it('reports silence as silence', () => {
    const analysis = analyseTone(new Int16Array(8000), 8000);
    expect(analysis.levelDbfs).toBe(Number.NEGATIVE_INFINITY);
    expect(analysis.purity).toBe(0);
  });
});
