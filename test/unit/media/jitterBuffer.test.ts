import { describe, expect, it } from 'vitest';
import { PcmuCodec } from '../../../src/media/codecs/index.js';
import {
  AdaptiveJitterBuffer,
  type JitterFrameKind,
  JitterPlayout,
} from '../../../src/media/jitter/index.js';
import { analyseTone, ToneGenerator } from '../../support/tone.js';

const SSRC = 0x5eed;

function makeBuffer(overrides: Partial<ConstructorParameters<typeof AdaptiveJitterBuffer>[0]> = {}) {
  return new AdaptiveJitterBuffer({ clockRate: 8000, ticksPerFrame: 160, ...overrides });
}

/** A packet for frame i of a stream whose first sequence number and timestamp are given. */
function packet(i: number, options: { seq0?: number; ts0?: number; ssrc?: number } = {}) {
  return {
    ssrc: options.ssrc ?? SSRC,
    sequenceNumber: ((options.seq0 ?? 1000) + i) & 0xffff,
    timestamp: ((options.ts0 ?? 50_000) + i * 160) >>> 0,
    payload: Uint8Array.of(i & 0xff, (i >> 8) & 0xff),
  };
}

const frameIndex = (payload: Uint8Array) => (payload[0] as number) | ((payload[1] as number) << 8);

/**
 * Drives the buffer like the media loop: packet i is sent at i·20 ms and arrives after delays[i]
 * (undefined = lost); every 20 ms tick inserts what has arrived, then pops one frame.
 */
function simulate(
  buffer: AdaptiveJitterBuffer,
  delays: (number | undefined)[],
  ticks: number,
  startMs = 0,
  firstFrame = 0,
) {
  const arrivals = delays
    .map((delay, i) => ({
      i: i + firstFrame,
      at: delay === undefined ? Number.POSITIVE_INFINITY : startMs + i * 20 + delay,
    }))
    .filter((a) => Number.isFinite(a.at))
    .sort((a, b) => a.at - b.at || a.i - b.i);
  const played: (number | JitterFrameKind)[] = [];
  const delaysMs: number[] = [];
  /** Per played packet: time from its sending to its playout (network delay + buffering). */
  const playoutDelaysMs: number[] = [];
  let next = 0;
  for (let tick = 0; tick < ticks; tick++) {
    const now = startMs + tick * 20 + 10;
    while (next < arrivals.length && (arrivals[next]?.at ?? 0) <= now) {
      const arrival = arrivals[next++] as { i: number; at: number };
      buffer.insert(packet(arrival.i), arrival.at);
    }
    const frame = buffer.pop();
    played.push(frame.kind === 'packet' ? frameIndex(frame.payload) : frame.kind);
    delaysMs.push(buffer.getStats().currentDelayMs);
    playoutDelaysMs.push(frame.kind === 'packet' ? now - frameIndex(frame.payload) * 20 : Number.NaN);
  }
  return { played, delaysMs, playoutDelaysMs };
}

describe('AdaptiveJitterBuffer', () => {
  it('fills to the initial target, then plays a regular stream in order without loss', () => {
    const buffer = makeBuffer({ initialDelayMs: 60 });
    const { played } = simulate(buffer, new Array(50).fill(0), 50);
    expect(played.slice(0, 2)).toEqual(['empty', 'empty']);
    expect(played.slice(2, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(played.filter((p) => typeof p === 'number')).toEqual([...Array(48).keys()]);
    const stats = buffer.getStats();
    expect([stats.received, stats.lost, stats.late, stats.duplicates, stats.concealed]).toEqual([
      50, 0, 0, 0, 0,
    ]);
  });

  it('puts reordered packets back in order', () => {
    const buffer = makeBuffer();
    // Packets 4 and 5 swap; 9 arrives after 10 and 11.
    const delays = new Array(30).fill(0);
    delays[4] = 15;
    delays[9] = 35;
    const { played } = simulate(buffer, delays, 30);
    expect(played.filter((p) => typeof p === 'number')).toEqual([...Array(28).keys()]);
    expect(buffer.getStats().lost).toBe(0);
  });

  it('drops duplicates, whether still buffered or already played', () => {
    const buffer = makeBuffer();
    const kinds: (number | string)[] = [];
    for (let i = 0; i < 10; i++) {
      buffer.insert(packet(i), i * 20);
      buffer.insert(packet(i), i * 20 + 1); // duplicate while buffered
      if (i >= 2) buffer.insert(packet(i - 2), i * 20 + 2); // duplicate of a played packet
      const frame = buffer.pop();
      kinds.push(frame.kind === 'packet' ? frameIndex(frame.payload) : frame.kind);
    }
    expect(kinds.filter((k) => typeof k === 'number')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const stats = buffer.getStats();
    expect(stats.duplicates).toBe(18);
    expect(stats.late).toBe(0);
  });

  it('reports a gap as a lost frame to conceal, and a packet after its time as late', () => {
    const buffer = makeBuffer();
    const delays: (number | undefined)[] = new Array(30).fill(0);
    delays[10] = undefined; // lost
    delays[15] = 200; // arrives long after its playout time
    const { played } = simulate(buffer, delays, 30);
    const lostAt = played.indexOf(9) + 1;
    expect(played[lostAt]).toBe('lost');
    expect(played[lostAt + 1]).toBe(11);
    expect(played[played.indexOf(14) + 1]).toBe('lost');
    expect(played[played.indexOf(14) + 2]).toBe(16);
    const stats = buffer.getStats();
    expect(stats.lost).toBe(2);
    expect(stats.concealed).toBe(2);
    expect(stats.late).toBe(1);
  });

  it('conceals through the codec and counts it (G.711 PLC)', () => {
    const buffer = makeBuffer();
    const codec = new PcmuCodec();
    const playout = new JitterPlayout(buffer, codec);
    const tone = new ToneGenerator({ frequencyHz: 400, sampleRate: 8000, amplitude: 0.4 });
    const out: number[] = [];
    for (let i = 0; i < 100; i++) {
      const payload = Uint8Array.from(codec.encode(tone.next(160)));
      if (i % 10 !== 5) {
        buffer.insert({ ssrc: SSRC, sequenceNumber: i, timestamp: i * 160, payload }, i * 20);
      }
      out.push(...playout.next());
    }
    const stats = playout.getStats();
    expect(stats.concealedFrames).toBe(buffer.getStats().concealed);
    expect(stats.concealedFrames).toBeGreaterThanOrEqual(9);
    expect(stats.concealedFrames).toBeLessThanOrEqual(10);
    expect(buffer.getStats().lost).toBe(stats.concealedFrames);
    // Concealment keeps the tone going: the output is still a clean 400 Hz tone.
    const analysis = analyseTone(out.slice(1600), 8000);
    expect(Math.abs(analysis.frequencyHz - 400)).toBeLessThanOrEqual(2);
    expect(analysis.purity).toBeGreaterThan(0.8);
  });

  it('raises its delay when jitter appears and brings it back down when it goes', () => {
    const buffer = makeBuffer({ minDelayMs: 40, maxDelayMs: 300 });
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    // 10 s calm, 10 s with 0-120 ms random delay, 20 s calm again.
    const delays = [
      ...new Array(500).fill(2),
      ...Array.from({ length: 500 }, () => 2 + Math.round(random() * 120)),
      ...new Array(1000).fill(2),
    ];
    const { delaysMs, played, playoutDelaysMs } = simulate(buffer, delays, 2000);
    const stats = buffer.getStats();
    const calmTarget = (() => {
      const b = makeBuffer({ minDelayMs: 40, maxDelayMs: 300 });
      simulate(b, new Array(500).fill(2), 500);
      return b.getStats();
    })();
    expect(calmTarget.targetDelayMs).toBe(40);
    expect(calmTarget.jitterMs).toBeLessThan(1);

    // Mid-jitter: probe a fresh run stopped at 19 s.
    const probe = makeBuffer({ minDelayMs: 40, maxDelayMs: 300 });
    simulate(probe, delays.slice(0, 950), 950);
    const jittery = probe.getStats();
    expect(jittery.jitterMs).toBeGreaterThan(15);
    expect(jittery.targetDelayMs).toBeGreaterThanOrEqual(100);
    const average = (from: number, to: number, series: number[]) => {
      const values = series.slice(from, to).filter((v) => !Number.isNaN(v));
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    const calmPlayout = average(400, 500, playoutDelaysMs);
    const jitteryPlayout = average(850, 1000, playoutDelaysMs);
    expect(calmPlayout).toBeLessThanOrEqual(60);
    // The buffer grew to ride out delays of up to 120 ms: few frames went missing.
    expect(jitteryPlayout).toBeGreaterThan(calmPlayout + 60);
    expect(stats.lost).toBeLessThan(10);

    // After 20 s calm, jitter and delay are back near the floor.
    expect(stats.jitterMs).toBeLessThan(1);
    expect(stats.targetDelayMs).toBe(40);
    expect(average(1900, 2000, playoutDelaysMs)).toBeLessThanOrEqual(60);
    expect(average(1900, 2000, delaysMs)).toBeLessThanOrEqual(60);
    expect(stats.dropped).toBeGreaterThan(0);
    // And the stream kept flowing: the last frames played are the newest packets.
    expect(played.slice(-5).every((p) => typeof p === 'number')).toBe(true);
  });

  it('goes quiet after a talkspurt ends and refills for the next one', () => {
    const buffer = makeBuffer({ maxUnderrunConcealFrames: 2 });
    for (let i = 0; i < 10; i++) {
      buffer.insert(packet(i), i * 20);
      buffer.pop();
    }
    // Two packets still buffered, then two concealed frames, then quiet.
    const after = [1, 2, 3, 4, 5, 6].map(() => buffer.pop().kind);
    expect(after).toEqual(['packet', 'packet', 'lost', 'lost', 'empty', 'empty']);
    // Next talkspurt 5 s later (DTX): timestamps jumped; no resync counted, plays after refill.
    for (let i = 250; i < 260; i++) buffer.insert(packet(i), i * 20);
    expect(frameIndex(buffer.pop().payload)).toBe(250);
    expect(buffer.getStats().resyncs).toBe(0);
  });

  it('resyncs on an SSRC change and on a timestamp jump while playing', () => {
    const buffer = makeBuffer();
    for (let i = 0; i < 10; i++) {
      buffer.insert(packet(i), i * 20);
      buffer.pop();
    }
    for (let i = 0; i < 5; i++) buffer.insert(packet(i, { ssrc: 99, seq0: 7, ts0: 123 }), 200 + i * 20);
    expect(buffer.getStats().resyncs).toBe(1);
    expect(frameIndex(buffer.pop().payload)).toBe(0);
    // Same SSRC, timestamp 10 minutes ahead while packets are still queued.
    buffer.insert({ ...packet(0, { ssrc: 99, seq0: 12, ts0: 123 + 4_800_000 }) }, 400);
    expect(buffer.getStats().resyncs).toBe(2);
  });

  it('flushes on request without counting a resync, and refills', () => {
    const buffer = makeBuffer();
    for (let i = 0; i < 5; i++) buffer.insert(packet(i), i * 20);
    buffer.flush();
    expect(buffer.pop().kind).toBe('empty');
    for (let i = 100; i < 104; i++) buffer.insert(packet(i), i * 20);
    expect(frameIndex(buffer.pop().payload)).toBe(100);
    expect(buffer.getStats().resyncs).toBe(0);
  });

  it('follows sequence numbers and timestamps across their wrap', () => {
    const buffer = makeBuffer();
    const out: number[] = [];
    for (let i = 0; i < 40; i++) {
      buffer.insert(packet(i, { seq0: 65520, ts0: 0xffffffff - 160 * 20 }), i * 20);
      const frame = buffer.pop();
      if (frame.kind === 'packet') out.push(frameIndex(frame.payload));
    }
    expect(out).toEqual([...Array(out.length).keys()]);
    expect(out.length).toBeGreaterThan(35);
    expect(buffer.getStats().lost).toBe(0);
  });

  it('splits 40 ms packets into 20 ms frames in playout', () => {
    const buffer = makeBuffer();
    const codec = new PcmuCodec();
    const playout = new JitterPlayout(buffer, codec);
    const tone = new ToneGenerator({ frequencyHz: 1000, sampleRate: 8000, amplitude: 0.4 });
    const out: number[] = [];
    for (let tick = 0; tick < 100; tick++) {
      if (tick % 2 === 0) {
        const payload = Uint8Array.from(codec.encode(tone.next(320)));
        buffer.insert(
          { ssrc: SSRC, sequenceNumber: tick / 2, timestamp: tick * 160, payload, durationTicks: 320 },
          tick * 20,
        );
      }
      const frame = playout.next();
      expect(frame.length).toBe(160);
      out.push(...frame);
    }
    expect(playout.getStats().concealedFrames).toBe(0);
    expect(Math.abs(analyseTone(out.slice(800), 8000).frequencyHz - 1000)).toBeLessThanOrEqual(2);
  });

  it('keeps a returned payload intact while new packets arrive before the next pop', () => {
    const buffer = makeBuffer({ capacity: 4 });
    for (let i = 0; i < 3; i++) buffer.insert(packet(i), i * 20);
    const frame = buffer.pop();
    const before = frameIndex(frame.payload);
    buffer.insert(packet(3), 60);
    buffer.insert(packet(4), 61);
    expect(frameIndex(frame.payload)).toBe(before);
  });
});

describe('AdaptiveJitterBuffer at a gap when the stream stops', () => {
  it('waits a bounded time for the missing packet, then plays what it has', () => {
    const buffer = new AdaptiveJitterBuffer({ clockRate: 8000, ticksPerFrame: 160, initialDelayMs: 200 });
    // Packets 0-9 start playout; 10 never comes, 11 does, and then the stream stops.
    const kinds: string[] = [];
    for (let i = 0; i < 12; i++) if (i !== 10) buffer.insert(packet(i), i * 20);
    for (let tick = 0; tick < 30; tick++) {
      const frame = buffer.pop();
      kinds.push(frame.kind === 'packet' ? String(frameIndex(frame.payload)) : frame.kind);
    }
    const eleven = kinds.indexOf('11');
    expect(eleven).toBeGreaterThan(kinds.indexOf('9'));
    // Between 9 and 11: held frames (at most the 200 ms target) and then one declared loss.
    expect(eleven - kinds.indexOf('9') - 1).toBeLessThanOrEqual(200 / 20 + 1);
    expect(buffer.getStats().lost).toBe(1);
  });
});
