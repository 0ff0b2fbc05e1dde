import { goertzelPower, rmsDbfs } from '../../test/support/tone.js';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** A frame arriving later than this after the previous one counts as late (two 20 ms frames). */
export const LATE_GAP_MS = 40;
/** A burst onset is a sample above this after QUIET_MS of none (the bursts peak near 9800). */
const ONSET_AMPLITUDE = 3000;
const QUIET_MS = 200;

export interface ProbeWindow {
  frames: number;
  /** Frames that arrived more than LATE_GAP_MS after the previous one. */
  lateFrames: number;
  maxGapMs: number;
  /** 100 ms blocks analysed, and those where the expected tone was weak or impure. */
  blocks: number;
  badBlocks: number;
  /** Median level (dBFS) of the expected tone over the window's blocks, and its lowest block. */
  medianToneDbfs: number;
  minToneDbfs: number;
  /** Median share of a block's energy at the expected tone (1 = pure). */
  medianPurity: number;
}

/**
 * What one side of a call hears, judged as it arrives: frame arrival gaps, the level and purity
 * of the tone the far side sends in 100 ms blocks, and the onsets of tone bursts (for latency).
 * A block is bad when its tone is more than 6 dB under the expected level or under 80 % pure:
 * a lost or concealed packet, a dropout or a glitch inside 100 ms does that to a steady tone.
 */
export class AudioProbe {
  /** Wall-clock times at which a burst's first sample was played out here. */
  readonly onsets: number[] = [];
  private readonly block: Int16Array;
  private filled = 0;
  private lastArrival = 0;
  private lastLoudAt = Number.NEGATIVE_INFINITY;
  private window = emptyWindow();
  private levels: number[] = [];
  private purities: number[] = [];

  constructor(
    private readonly sampleRate: number,
    private readonly toneHz: number,
    private readonly expectedToneDbfs: number,
  ) {
    this.block = new Int16Array(sampleRate / 10);
  }

  /** One decoded frame whose last sample became available at `arrivalWallMs`. */
  push(samples: Int16Array, arrivalWallMs: number): void {
    const w = this.window;
    if (this.lastArrival > 0) {
      const gap = arrivalWallMs - this.lastArrival;
      if (gap > LATE_GAP_MS) w.lateFrames++;
      if (gap > w.maxGapMs) w.maxGapMs = gap;
    }
    this.lastArrival = arrivalWallMs;
    w.frames++;
    const frameMs = (samples.length * 1000) / this.sampleRate;
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i] ?? 0;
      if (v > ONSET_AMPLITUDE || v < -ONSET_AMPLITUDE) {
        // The frame's samples span the frame length up to its arrival, so sample i played at:
        const at = arrivalWallMs - frameMs + (i * 1000) / this.sampleRate;
        if (at - this.lastLoudAt > QUIET_MS) this.onsets.push(at);
        this.lastLoudAt = at;
      }
      this.block[this.filled++] = v;
      if (this.filled === this.block.length) this.closeBlock();
    }
  }

  /** Starts a new measuring window (the frame-gap clock carries on). */
  reset(): void {
    this.window = emptyWindow();
    this.levels = [];
    this.purities = [];
  }

  read(): ProbeWindow {
    return {
      ...this.window,
      medianToneDbfs: round(median(this.levels)),
      minToneDbfs: round(Math.min(...this.levels)),
      medianPurity: round(median(this.purities), 3),
      maxGapMs: round(this.window.maxGapMs),
    };
  }

  private closeBlock(): void {
    this.filled = 0;
    const power = goertzelPower(this.block, this.toneHz, this.sampleRate);
    // Goertzel power of a sine of amplitude A is A²/4; its RMS level is A²/2.
    const toneDbfs = 10 * Math.log10(Math.max(2 * power, 1e-12));
    const total = rmsDbfs(this.block);
    const purity = Number.isFinite(total) ? Math.min(1, 10 ** ((toneDbfs - total) / 10)) : 0;
    this.window.blocks++;
    if (toneDbfs < this.expectedToneDbfs - 6 || purity < 0.8) this.window.badBlocks++;
    this.levels.push(toneDbfs);
    this.purities.push(purity);
  }
}

function emptyWindow(): Omit<ProbeWindow, 'medianToneDbfs' | 'minToneDbfs' | 'medianPurity'> {
  return { frames: 0, lateFrames: 0, maxGapMs: 0, blocks: 0, badBlocks: 0 };
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
