/**
 * Packet loss concealment for codecs without their own (G.711, G.722), after the idea of G.711
 * Appendix I: repeat the last pitch period of the good signal, fade it out over successive losses,
 * and cross-fade back into the first good frame so neither edge clicks.
 *
 * - Pitch is the lag (2.5–15 ms) with the highest normalised autocorrelation over the last 20 ms.
 * - The first 10 ms of a loss play at full level, then the level falls 20 % per 10 ms; after 60 ms
 *   of loss the output is silence (a long repeated buzz is worse than silence).
 * - The good frame after a loss is blended with the continued concealment over 1/4 pitch period.
 */
export class WaveformPlc {
  private readonly history: Int16Array;
  private historyFilled = 0;
  private readonly output: Int16Array;
  private readonly pitchBuffer: Int16Array;
  private pitch = 0;
  private pitchPosition = 0;
  /** Samples concealed since the last good frame; 0 when the last frame was good. */
  private concealedSamples = 0;
  private readonly minLag: number;
  private readonly maxLag: number;
  private readonly window: number;

  constructor(
    private readonly sampleRate: number,
    private readonly frameSamples: number,
  ) {
    this.minLag = Math.round(sampleRate * 0.0025);
    this.maxLag = Math.round(sampleRate * 0.015);
    this.window = Math.round(sampleRate * 0.02);
    this.history = new Int16Array(this.maxLag + this.window);
    this.output = new Int16Array(frameSamples);
    this.pitchBuffer = new Int16Array(this.maxLag);
  }

  /** Feed every good decoded frame (mono). Modifies `pcm` in place to blend out of a loss. */
  good(pcm: Int16Array): void {
    if (this.concealedSamples > 0) this.blendIn(pcm);
    this.concealedSamples = 0;
    this.remember(pcm);
  }

  /** One frame of concealment; a view into a reused buffer. */
  conceal(): Int16Array {
    const out = this.output;
    if (this.historyFilled < this.history.length) {
      out.fill(0);
      this.concealedSamples += out.length;
      return out;
    }
    if (this.concealedSamples === 0) this.startConcealment();
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.round(this.nextSample() * this.gainAt(this.concealedSamples + i));
    }
    this.concealedSamples += out.length;
    return out;
  }

  reset(): void {
    this.historyFilled = 0;
    this.concealedSamples = 0;
    this.history.fill(0);
  }

  private gainAt(sampleIndex: number): number {
    const tenMs = this.sampleRate / 100;
    if (sampleIndex < tenMs) return 1;
    const gain = 1 - (0.2 * (sampleIndex - tenMs)) / tenMs;
    return gain > 0 ? gain : 0;
  }

  private nextSample(): number {
    const value = this.pitchBuffer[this.pitchPosition] as number;
    this.pitchPosition++;
    if (this.pitchPosition >= this.pitch) this.pitchPosition = 0;
    return value;
  }

  private startConcealment(): void {
    const h = this.history;
    const end = h.length;
    let bestLag = this.minLag;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let lag = this.minLag; lag <= this.maxLag; lag++) {
      let correlation = 0;
      let energy = 0;
      for (let i = end - this.window; i < end; i++) {
        const past = h[i - lag] as number;
        correlation += (h[i] as number) * past;
        energy += past * past;
      }
      const score = energy > 0 ? correlation / Math.sqrt(energy) : 0;
      if (score > bestScore) {
        bestScore = score;
        bestLag = lag;
      }
    }
    this.pitch = bestLag;
    // The last pitch period, played cyclically; it starts where the good signal stopped.
    this.pitchBuffer.set(h.subarray(end - bestLag, end));
    this.pitchPosition = 0;
  }

  private blendIn(pcm: Int16Array): void {
    if (this.pitch === 0) return;
    const length = Math.min(pcm.length, Math.max(1, Math.floor(this.pitch / 4)));
    for (let i = 0; i < length; i++) {
      const w = (i + 1) / (length + 1);
      const concealed = this.nextSample() * this.gainAt(this.concealedSamples + i);
      pcm[i] = Math.round(concealed * (1 - w) + (pcm[i] as number) * w);
    }
  }

  private remember(pcm: Int16Array): void {
    const h = this.history;
    if (pcm.length >= h.length) {
      h.set(pcm.subarray(pcm.length - h.length));
    } else {
      h.copyWithin(0, pcm.length);
      h.set(pcm, h.length - pcm.length);
    }
    this.historyFilled = Math.min(h.length, this.historyFilled + pcm.length);
  }

  /** Frame length this concealer produces (samples). */
  get frameLength(): number {
    return this.frameSamples;
  }
}
