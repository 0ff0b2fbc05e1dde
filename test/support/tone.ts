/**
 * Tone generation and detection for audio assertions: every audio test sends a known tone and
 * checks frequency and level on the far side, instead of trusting that packets mean sound.
 */

export interface ToneSpec {
  frequencyHz: number;
  sampleRate: number;
  /** Peak amplitude as a fraction of full scale (0–1). */
  amplitude: number;
}

/** A continuous sine: `next(n)` returns the next n samples, phase-continuous across calls. */
export class ToneGenerator {
  private phase = 0;
  private readonly step: number;

  constructor(private readonly spec: ToneSpec) {
    this.step = (2 * Math.PI * spec.frequencyHz) / spec.sampleRate;
  }

  next(samples: number): Int16Array {
    const out = new Int16Array(samples);
    const peak = this.spec.amplitude * 32767;
    for (let i = 0; i < samples; i++) {
      out[i] = Math.round(peak * Math.sin(this.phase));
      this.phase += this.step;
    }
    this.phase %= 2 * Math.PI;
    return out;
  }
}

/** Goertzel: the power of one frequency in a block, normalised so a full-scale sine gives ~0.25. */
export function goertzelPower(samples: ArrayLike<number>, frequencyHz: number, sampleRate: number): number {
  const n = samples.length;
  const coefficient = 2 * Math.cos((2 * Math.PI * frequencyHz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = (samples[i] ?? 0) / 32768 + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return power / (n * n);
}

/** Root mean square level in dBFS (a full-scale sine is about -3 dBFS; silence is -Infinity). */
export function rmsDbfs(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = (samples[i] ?? 0) / 32768;
    sum += v * v;
  }
  return 10 * Math.log10(sum / Math.max(1, samples.length));
}

export interface ToneAnalysis {
  /** The strongest frequency between minHz and maxHz, to within a fraction of a hertz. */
  frequencyHz: number;
  levelDbfs: number;
  /** Share of the block's energy at that frequency (1 = a pure tone; noise is near 0). */
  purity: number;
}

/**
 * Finds the dominant tone: a coarse Goertzel scan over the first 100 ms (10 Hz resolution, so a
 * 5 Hz step cannot step over the tone's main lobe), then a fine scan of the whole block around it.
 * Fine resolution is limited by block length (1 s of audio resolves about 1 Hz).
 */
export function analyseTone(
  samples: ArrayLike<number>,
  sampleRate: number,
  range: { minHz: number; maxHz: number } = { minHz: 50, maxHz: 4000 },
): ToneAnalysis {
  const scan = (block: ArrayLike<number>, from: number, to: number, step: number) => {
    let best = { frequency: from, power: -1 };
    for (let f = from; f <= to; f += step) {
      const power = goertzelPower(block, f, sampleRate);
      if (power > best.power) best = { frequency: f, power };
    }
    return best;
  };
  const head = Array.prototype.slice.call(samples, 0, Math.min(samples.length, sampleRate / 10)) as number[];
  const coarse = scan(head, range.minHz, range.maxHz, 5);
  const fine = scan(samples, Math.max(range.minHz, coarse.frequency - 10), coarse.frequency + 10, 0.25);
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += ((samples[i] ?? 0) / 32768) ** 2;
  energy /= Math.max(1, samples.length);
  // A sine of amplitude A has mean energy A²/2 and normalised Goertzel power A²/4.
  const purity = energy > 0 ? Math.min(1, (2 * fine.power) / energy) : 0;
  return { frequencyHz: fine.frequency, levelDbfs: rmsDbfs(samples), purity };
}
