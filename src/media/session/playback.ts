import type { PlaySource } from '../workers/mediaChannelTypes.js';
import { BRIDGE_FRAME_SAMPLES, BRIDGE_SAMPLE_RATE } from './mediaPipelineTypes.js';

/** Peak of generated tones: -9 dBFS RMS, loud enough to hear, far from clipping when mixed. */
const TONE_PEAK = 0.5 * 32767;

/**
 * A tone, silence or decoded PCM played into a call, 20 ms at 48 kHz per tick, for its duration
 * (looping if asked). Samples go into one reused frame; PCM's last frame is padded with silence.
 */
export class Playback {
  private readonly frame = new Int16Array(BRIDGE_FRAME_SAMPLES);
  private readonly step: number;
  private readonly totalFrames: number;
  private phase = 0;
  private played = 0;

  /** `pcm` (48 kHz mono) is played for a `file` source, which carries no samples itself. */
  constructor(
    readonly id: string,
    source: Exclude<PlaySource, { kind: 'url' }>,
    readonly target: 'sip' | 'room' | 'both',
    private readonly loop: boolean,
    private readonly pcm: Int16Array | null = null,
  ) {
    this.step = source.kind === 'tone' ? (2 * Math.PI * source.frequencyHz) / BRIDGE_SAMPLE_RATE : 0;
    this.totalFrames =
      source.kind === 'file'
        ? Math.max(1, Math.ceil((pcm?.length ?? 0) / BRIDGE_FRAME_SAMPLES))
        : Math.max(1, Math.round(source.durationMs / 20));
  }

  get toSip(): boolean {
    return this.target !== 'room';
  }

  get toRoom(): boolean {
    return this.target !== 'sip';
  }

  /** The next frame, or null once a non-looping playback has played all of it. */
  next(): Int16Array | null {
    if (this.played >= this.totalFrames) {
      if (!this.loop) return null;
      this.played = 0;
    }
    const index = this.played++;
    if (this.pcm) {
      const start = index * BRIDGE_FRAME_SAMPLES;
      const chunk = this.pcm.subarray(start, start + BRIDGE_FRAME_SAMPLES);
      this.frame.set(chunk);
      if (chunk.length < BRIDGE_FRAME_SAMPLES) this.frame.fill(0, chunk.length);
      return this.frame;
    }
    if (this.step === 0) {
      this.frame.fill(0);
      return this.frame;
    }
    for (let i = 0; i < this.frame.length; i++) {
      this.frame[i] = Math.round(TONE_PEAK * Math.sin(this.phase));
      this.phase += this.step;
    }
    this.phase %= 2 * Math.PI;
    return this.frame;
  }
}

/** Adds `source` into `target` with clipping. */
export function mixInto(target: Int16Array, source: Int16Array): void {
  for (let i = 0; i < target.length; i++) {
    const sum = (target[i] as number) + (source[i] as number);
    target[i] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum;
  }
}
