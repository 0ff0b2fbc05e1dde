import { describe, expect, it } from 'vitest';
import { PcmFifo } from '../../../src/livekit/pcmFifo.js';

const FRAME_10MS = 480;
const READ_20MS = 960;
const PRIME_40MS = 1920;

/** Samples 1, 2, 3… (never 0), so a gap of zeros or a skipped sample shows. */
function counting(from: number, count: number): Int16Array {
  return Int16Array.from({ length: count }, (_, i) => ((from + i) % 30_000) + 1);
}

/**
 * LiveKit's delivery as the bridge sees it: a 10 ms frame is completed every 10 ms but handed over
 * up to 30 ms late (seeded pseudo-random lateness, frames in order), so frames arrive in bursts
 * with gaps between. The SIP clock reads 20 ms every 20 ms. Returns what each read got.
 */
function run(fifo: PcmFifo, durationMs: number): Int16Array[] {
  const reads: Int16Array[] = [];
  let seed = 42;
  const lateness = () => {
    seed = (seed * 48_271) % 2_147_483_647;
    return Math.floor((seed / 2_147_483_647) * 31);
  };
  const arrivals: number[] = [];
  for (let k = 0, last = 0; (k + 1) * 10 <= durationMs; k++) {
    last = Math.max(last, (k + 1) * 10 + lateness());
    arrivals.push(last);
  }
  let delivered = 0;
  for (let t = 1; t <= durationMs; t++) {
    while (delivered < arrivals.length && (arrivals[delivered] as number) <= t) {
      fifo.write(counting(delivered * FRAME_10MS, FRAME_10MS));
      delivered++;
    }
    if (t % 20 === 0) {
      const out = new Int16Array(READ_20MS);
      fifo.mixInto(out);
      reads.push(out);
    }
  }
  return reads;
}

describe('PcmFifo', () => {
  it('gives nothing until its pre-fill is buffered, then 20 ms per read', () => {
    const fifo = new PcmFifo(9600, PRIME_40MS);
    const out = new Int16Array(READ_20MS);
    fifo.write(counting(0, FRAME_10MS * 3));
    expect(fifo.mixInto(out)).toBe(0);
    expect(out.every((sample) => sample === 0)).toBe(true);
    expect(fifo.flowing).toBe(false);
    fifo.write(counting(FRAME_10MS * 3, FRAME_10MS));
    expect(fifo.mixInto(out)).toBe(READ_20MS);
    expect(out).toEqual(counting(0, READ_20MS));
    expect(fifo.flowing).toBe(true);
    // Primed, it gives what it has, even below the pre-fill.
    fifo.write(counting(FRAME_10MS * 4, FRAME_10MS));
    expect(fifo.mixInto(new Int16Array(READ_20MS))).toBe(READ_20MS);
    expect(fifo.available).toBe(FRAME_10MS);
  });

  it('rides out bursty delivery without a gap, where reading at once underruns', () => {
    const primed = new PcmFifo(9600, PRIME_40MS);
    const reads = run(primed, 3_000);
    const firstSound = reads.findIndex((read) => read[0] !== 0);
    const heard = reads.slice(firstSound);
    // Every read after the first sound is full and continues the one before it.
    const joined = new Int16Array(heard.length * READ_20MS);
    for (const [i, read] of heard.entries()) joined.set(read, i * READ_20MS);
    const expected = counting(0, joined.length);
    expect(joined.findIndex((sample, i) => sample !== expected[i])).toBe(-1);
    expect(primed.underruns).toBe(0);
    expect(firstSound * 20).toBeLessThanOrEqual(80);

    const unprimed = new PcmFifo(9600);
    run(unprimed, 3_000);
    expect(unprimed.underruns).toBeGreaterThan(0);
  });

  it('fills to its pre-fill again after a read finds it empty', () => {
    const fifo = new PcmFifo(9600, PRIME_40MS);
    fifo.write(counting(0, PRIME_40MS + FRAME_10MS));
    const out = new Int16Array(READ_20MS);
    expect(fifo.mixInto(out)).toBe(READ_20MS);
    expect(fifo.mixInto(out.fill(0))).toBe(READ_20MS);
    // 10 ms left: a short read plays it and stays flowing, so audio that arrives now is taken.
    expect(fifo.mixInto(out.fill(0))).toBe(FRAME_10MS);
    expect(fifo.underruns).toBe(1);
    expect(fifo.flowing).toBe(true);
    fifo.write(counting(0, FRAME_10MS));
    expect(fifo.mixInto(out.fill(0))).toBe(FRAME_10MS);
    // Found empty: the participant stopped; nothing until the pre-fill is back.
    expect(fifo.mixInto(out.fill(0))).toBe(0);
    expect(fifo.flowing).toBe(false);
    fifo.write(counting(0, FRAME_10MS * 2));
    expect(fifo.mixInto(out.fill(0))).toBe(0);
    fifo.write(counting(0, FRAME_10MS * 2));
    expect(fifo.mixInto(out.fill(0))).toBe(READ_20MS);
  });

  it('mixes into what is there, with clipping', () => {
    const a = new PcmFifo(1000);
    const b = new PcmFifo(1000);
    a.write(Int16Array.from([30_000, -30_000, 100]));
    b.write(Int16Array.from([10_000, -10_000, 23]));
    const out = new Int16Array(3);
    expect(a.mixInto(out)).toBe(3);
    expect(b.mixInto(out)).toBe(3);
    expect(Array.from(out)).toEqual([32_767, -32_768, 123]);
  });

  it('drops the oldest samples when a burst overflows it', () => {
    const fifo = new PcmFifo(1000);
    fifo.write(counting(0, 1200));
    expect(fifo.overflowedSamples).toBe(200);
    const out = new Int16Array(1000);
    expect(fifo.mixInto(out)).toBe(1000);
    expect(out).toEqual(counting(200, 1000));
  });

  it('refuses a pre-fill larger than the FIFO', () => {
    expect(() => new PcmFifo(1000, 1001)).toThrow(RangeError);
  });
});
