import type { ResamplerOptions } from './resamplerTypes.js';

const DEFAULT_TAPS_PER_PHASE = 32;
/** Kaiser window β: about 80 dB stopband attenuation for the windowed sinc. */
const KAISER_BETA = 8;

/** Zeroth-order modified Bessel function of the first kind, for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/**
 * Kaiser-windowed sinc low-pass at the high rate: cutoff at 0.9 of the low rate's Nyquist (3.6 kHz
 * for 8 kHz, 7.2 kHz for 16 kHz), so telephone band passes flat and images/aliases are cut.
 */
function designLowPass(length: number, cutoff: number, gain: number): Float64Array {
  const taps = new Float64Array(length);
  const middle = (length - 1) / 2;
  const denominator = besselI0(KAISER_BETA);
  for (let n = 0; n < length; n++) {
    const t = n - middle;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const ratio = (2 * n) / (length - 1) - 1;
    const window = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - ratio * ratio))) / denominator;
    taps[n] = sinc * window * gain;
  }
  return taps;
}

/**
 * Polyphase FIR resampler for integer ratios (8k↔48k, 16k↔48k, 24k↔48k): between the SIP
 * codecs' rates and LiveKit's 48 kHz. State (the filter history) carries across calls, so a
 * stream can be processed frame by frame without edge clicks. Output is a view into a reused
 * buffer, valid until the next call.
 */
export class Resampler {
  readonly inputRate: number;
  readonly outputRate: number;
  readonly channels: number;
  private readonly up: number;
  private readonly down: number;
  /**
   * Per phase p, its taps reversed to run forward over the input: phases[p][j] multiplies
   * x[n - (taps - 1 - j)]. Float64 and forward order let V8 keep the inner loop tight.
   */
  private readonly phases: Float64Array[];
  private readonly tapsPerPhase: number;
  /** Per channel: the last tapsPerPhase-1 inputs (history) followed by the current input. */
  private work: Float64Array[];
  private output: Int16Array;
  /** Decimation phase carried across calls (which input sample the next output aligns to). */
  private decimationOffset = 0;

  constructor(options: ResamplerOptions) {
    const { inputRate, outputRate } = options;
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.channels = options.channels ?? 1;
    if (outputRate % inputRate === 0) {
      this.up = outputRate / inputRate;
      this.down = 1;
    } else if (inputRate % outputRate === 0) {
      this.up = 1;
      this.down = inputRate / outputRate;
    } else {
      throw new RangeError(`resampling ${inputRate} → ${outputRate} Hz is not an integer ratio`);
    }
    const ratio = Math.max(this.up, this.down);
    const lowRate = Math.min(inputRate, outputRate);
    const highRate = lowRate * ratio;
    // A multiple of 4: the inner loops are unrolled by four.
    this.tapsPerPhase = ratio === 1 ? 4 : Math.ceil((options.tapsPerPhase ?? DEFAULT_TAPS_PER_PHASE) / 4) * 4;
    const length = this.tapsPerPhase * (this.up > 1 ? this.up : 1) * (this.down > 1 ? this.down : 1);
    const cutoff = (0.45 * lowRate) / highRate;
    // Upsampling inserts up-1 zeros per sample, so the filter needs a gain of `up` to keep level.
    const prototype = ratio === 1 ? Float64Array.of(1, 0, 0, 0) : designLowPass(length, cutoff, this.up);
    this.phases = [];
    if (this.up > 1) {
      const taps = this.tapsPerPhase;
      for (let p = 0; p < this.up; p++) {
        const phase = new Float64Array(taps);
        for (let k = 0; k < taps; k++) phase[taps - 1 - k] = prototype[p + k * this.up] as number;
        this.phases.push(phase);
      }
    } else {
      const taps = new Float64Array(length);
      for (let k = 0; k < length; k++) taps[length - 1 - k] = prototype[k] as number;
      this.phases.push(taps);
    }
    this.work = [];
    this.output = new Int16Array(0);
  }

  /** Output samples (all channels) that `inputSamples` (all channels) produce at most. */
  maxOutputLength(inputSamples: number): number {
    const frames = inputSamples / this.channels;
    return Math.ceil((frames * this.up) / this.down + 1) * this.channels;
  }

  /** Resamples interleaved PCM; returns a view into an internal buffer. */
  process(input: Int16Array): Int16Array {
    if (this.up === 1 && this.down === 1) return input;
    const channels = this.channels;
    const frames = Math.floor(input.length / channels);
    const history = this.historyLength();
    this.ensureBuffers(frames, history);
    let produced = 0;
    for (let c = 0; c < channels; c++) {
      const work = this.work[c] as Float64Array;
      for (let i = 0; i < frames; i++) work[history + i] = input[i * channels + c] as number;
      produced = this.up > 1 ? this.interpolate(work, frames, c) : this.decimate(work, frames, c);
      // Keep the newest `history` inputs for the next call.
      work.copyWithin(0, frames, frames + history);
    }
    if (this.down > 1) this.decimationOffset = (this.decimationOffset + frames) % this.down;
    return this.output.subarray(0, produced * channels);
  }

  reset(): void {
    for (const work of this.work) work.fill(0);
    this.decimationOffset = 0;
  }

  private historyLength(): number {
    const taps = (this.phases[0] as Float64Array).length;
    return taps - 1;
  }

  private ensureBuffers(frames: number, history: number): void {
    const needed = history + frames;
    if (this.work.length !== this.channels || (this.work[0] as Float64Array).length < needed) {
      const previous = this.work;
      this.work = [];
      for (let c = 0; c < this.channels; c++) {
        const work = new Float64Array(needed);
        const old = previous[c];
        if (old) work.set(old.subarray(0, history));
        this.work.push(work);
      }
    }
    const outputLength = this.maxOutputLength(frames * this.channels);
    if (this.output.length < outputLength) this.output = new Int16Array(outputLength);
  }

  private interpolate(work: Float64Array, frames: number, channel: number): number {
    const up = this.up;
    const taps = this.tapsPerPhase;
    const out = this.output;
    const channels = this.channels;
    let o = 0;
    for (let i = 0; i < frames; i++) {
      // work[i .. i + taps - 1] are the inputs this output depends on, oldest first.
      for (let p = 0; p < up; p++) {
        out[o * channels + channel] = clamp16(dot(this.phases[p] as Float64Array, work, i, taps));
        o++;
      }
    }
    return o;
  }

  private decimate(work: Float64Array, frames: number, channel: number): number {
    const down = this.down;
    const taps = this.phases[0] as Float64Array;
    const length = taps.length;
    const out = this.output;
    const channels = this.channels;
    let o = 0;
    // The first input of this call that lands on an output instant.
    const first = (down - this.decimationOffset) % down;
    for (let i = first; i < frames; i += down) {
      out[o * channels + channel] = clamp16(dot(taps, work, i, length));
      o++;
    }
    return o;
  }
}

/** Σ taps[j]·work[start + j] for j < length (a multiple of 4), with four running sums. */
function dot(taps: Float64Array, work: Float64Array, start: number, length: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let j = 0; j < length; j += 4) {
    const w = start + j;
    a0 += (taps[j] as number) * (work[w] as number);
    a1 += (taps[j + 1] as number) * (work[w + 1] as number);
    a2 += (taps[j + 2] as number) * (work[w + 2] as number);
    a3 += (taps[j + 3] as number) * (work[w + 3] as number);
  }
  return a0 + a1 + a2 + a3;
}

function clamp16(value: number): number {
  const rounded = Math.round(value);
  if (rounded > 32767) return 32767;
  if (rounded < -32768) return -32768;
  return rounded;
}
