import { describe, expect, it } from 'vitest';
import {
  buildRtcpCompound,
  buildRtcpReport,
  CODEC_IMPAIRMENTS,
  estimateMos,
  nextRtcpIntervalMs,
  ntpFromUnixMs,
  ntpMiddle32,
  parseRtcpCompound,
  type RtcpPacket,
  RtcpParseError,
  RtpReceiverStatistics,
  roundTripTimeMs,
  rToMos,
  SDES_CNAME,
} from '../../../src/media/rtcp/index.js';

const block = {
  ssrc: 0xaabbccdd,
  fractionLost: 12,
  cumulativeLost: 5,
  extendedHighestSequence: 65536 + 20,
  jitter: 80,
  lastSenderReport: 0x12345678,
  delaySinceLastSenderReport: 13107,
};

describe('RTCP packets', () => {
  it('round-trips a compound SR + SDES + BYE', () => {
    const packets: RtcpPacket[] = [
      {
        type: 'sr',
        ssrc: 1,
        ntpSeconds: 0xe0000000,
        ntpFraction: 0x80000000,
        rtpTimestamp: 0xfffffff0,
        packetCount: 500,
        octetCount: 80000,
        reports: [block, { ...block, ssrc: 2, cumulativeLost: -3 }],
      },
      { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: SDES_CNAME, text: 'gw@example' }] }] },
      { type: 'bye', ssrcs: [1], reason: 'call ended' },
    ];
    const bytes = buildRtcpCompound(packets);
    expect(bytes.length % 4).toBe(0);
    expect(parseRtcpCompound(bytes)).toEqual(packets);
  });

  it('writes the header as RFC 3550 lays it out', () => {
    const bytes = buildRtcpCompound([{ type: 'rr', ssrc: 0x01020304, reports: [block] }]);
    expect([...bytes.subarray(0, 8)]).toEqual([0x81, 201, 0, 7, 1, 2, 3, 4]);
    expect(bytes.length).toBe(32);
    // fraction lost 12, cumulative 5
    expect([...bytes.subarray(12, 16)]).toEqual([12, 0, 0, 5]);
  });

  it('round-trips an empty RR, SDES with several items and chunks, and a BYE without reason', () => {
    const packets: RtcpPacket[] = [
      { type: 'rr', ssrc: 9, reports: [] },
      {
        type: 'sdes',
        chunks: [
          {
            ssrc: 9,
            items: [
              { type: 1, text: 'abc' },
              { type: 2, text: 'Grüße' },
            ],
          },
          { ssrc: 10, items: [] },
        ],
      },
      { type: 'bye', ssrcs: [9, 10] },
    ];
    expect(parseRtcpCompound(buildRtcpCompound(packets))).toEqual(packets);
  });

  it('keeps packet types it does not interpret (feedback, XR) as bytes', () => {
    const packets: RtcpPacket[] = [
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'other', packetType: 205, count: 1, body: Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 2) },
    ];
    expect(parseRtcpCompound(buildRtcpCompound(packets))).toEqual(packets);
  });

  it('accepts padding on the last packet', () => {
    const rr = buildRtcpCompound([{ type: 'rr', ssrc: 7, reports: [] }]);
    const padded = new Uint8Array(rr.length + 4);
    padded.set(rr);
    padded[0] = (padded[0] as number) | 0x20;
    padded[3] = 2;
    padded[padded.length - 1] = 4;
    expect(parseRtcpCompound(padded)).toEqual([{ type: 'rr', ssrc: 7, reports: [] }]);
  });

  it.each([
    ['empty', Uint8Array.of()],
    ['version 1', Uint8Array.of(0x40, 201, 0, 1, 0, 0, 0, 1)],
    ['length past the datagram', Uint8Array.of(0x80, 201, 0, 9, 0, 0, 0, 1)],
    ['trailing partial header', Uint8Array.of(0x80, 201, 0, 1, 0, 0, 0, 1, 0x80)],
    ['RR shorter than its blocks', Uint8Array.of(0x81, 201, 0, 1, 0, 0, 0, 1)],
    ['SR shorter than its sender info', Uint8Array.of(0x80, 200, 0, 1, 0, 0, 0, 1)],
    ['SDES chunk without terminator', Uint8Array.of(0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 0x61, 0x62)],
    ['SDES item past the end', Uint8Array.of(0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 0x61, 0x62)],
    ['BYE reason past the end', Uint8Array.of(0x81, 203, 0, 2, 0, 0, 0, 1, 9, 0x61, 0x62, 0x63)],
    ['padding count zero', Uint8Array.of(0xa0, 201, 0, 1, 0, 0, 0, 0)],
    [
      'padding on a packet that is not last',
      Uint8Array.of(0xa0, 201, 0, 1, 0, 0, 0, 4, 0x80, 201, 0, 1, 0, 0, 0, 1),
    ],
  ])('rejects a malformed compound (%s) with RtcpParseError', (_name, bytes) => {
    expect(() => parseRtcpCompound(bytes)).toThrow(RtcpParseError);
  });

  it('survives random garbage: every datagram parses or throws RtcpParseError', () => {
    let seed = 99;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 3000; n++) {
      const bytes = new Uint8Array(4 + (random() % 60));
      for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff;
      bytes[0] = ((bytes[0] as number) & 0x3f) | 0x80;
      bytes[1] = 200 + (random() % 5);
      bytes[2] = 0;
      bytes[3] = random() % 16;
      try {
        parseRtcpCompound(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(RtcpParseError);
      }
    }
  });
});

describe('RtpReceiverStatistics', () => {
  it('computes interarrival jitter on a synthetic arrival pattern (RFC 3550 A.8)', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 8000 });
    // Sent every 20 ms; arrivals alternate 0 and 10 ms late, so every |D| is 10 ms = 80 ticks.
    let expected = 0;
    for (let i = 0; i < 200; i++) {
      stats.update(1, i, i * 160, i * 20 + (i % 2) * 10);
      if (i > 0) expected += (80 - expected) / 16;
    }
    const snapshot = stats.snapshot();
    expect(snapshot.jitter).toBeCloseTo(expected, 9);
    expect(snapshot.jitter).toBeCloseTo(80, 2);
    expect(snapshot.jitterMs).toBeCloseTo(10, 2);
    expect(stats.reportBlock(4000)?.jitter).toBe(79);
  });

  it('reports no jitter for a constant network delay, whatever its size', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 48000 });
    for (let i = 0; i < 100; i++) stats.update(1, i, (0xffff0000 + i * 960) >>> 0, 5000 + i * 20 + 73);
    expect(stats.snapshot().jitter).toBeCloseTo(0, 9);
  });

  it('counts loss per report interval and in total (RFC 3550 A.3)', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 8000 });
    for (let i = 0; i < 100; i++) if (i % 20 !== 7) stats.update(5, 1000 + i, i * 160, i * 20);
    const first = stats.reportBlock(2000);
    expect(first).toMatchObject({ ssrc: 5, cumulativeLost: 5, extendedHighestSequence: 1099 });
    expect(first?.fractionLost).toBe(Math.floor((5 * 256) / 100));
    for (let i = 100; i < 150; i++) stats.update(5, 1000 + i, i * 160, i * 20);
    const second = stats.reportBlock(3000);
    expect(second).toMatchObject({ fractionLost: 0, cumulativeLost: 5, extendedHighestSequence: 1149 });
    expect(stats.snapshot().lossRatio).toBeCloseTo(5 / 150, 9);
  });

  it('extends the sequence across its wrap and counts duplicates and reordering', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 8000 });
    const sequence = [65530, 65531, 65533, 65532, 65534, 65535, 0, 1, 1, 2];
    sequence.forEach((seq, i) => {
      stats.update(5, seq, i * 160, i * 20);
    });
    const report = stats.reportBlock(1000);
    expect(report?.extendedHighestSequence).toBe(65536 + 2);
    // 9 distinct expected, 10 received (one duplicate): cumulative lost is −1.
    expect(report?.cumulativeLost).toBe(-1);
    expect(report?.fractionLost).toBe(0);
  });

  it('restarts on a new SSRC and on a confirmed sequence jump, not on a single stray packet', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 8000 });
    for (let i = 0; i < 10; i++) stats.update(5, i, i * 160, i * 20);
    expect(stats.update(5, 30000, 0, 300)).toBe(false);
    expect(stats.update(5, 10, 1600, 320)).toBe(true);
    expect(stats.snapshot().expected).toBe(11);
    stats.update(5, 40000, 0, 400);
    stats.update(5, 40001, 160, 420);
    expect(stats.snapshot()).toMatchObject({ received: 1, expected: 1 });
    stats.update(6, 7, 0, 500);
    expect(stats.snapshot()).toMatchObject({ ssrc: 6, received: 1, expected: 1 });
  });

  it('holds back a new source until MIN_SEQUENTIAL packets when asked to', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 8000, minSequential: 2 });
    expect(stats.update(1, 100, 0, 0)).toBe(false);
    expect(stats.update(1, 101, 160, 20)).toBe(true);
    expect(stats.snapshot()).toMatchObject({ received: 1, expected: 1 });
  });

  it('does not let telephone-event timestamps count as jitter', () => {
    const stats = new RtpReceiverStatistics({ clockRate: 8000 });
    for (let i = 0; i < 50; i++) stats.update(1, i, i < 20 ? i * 160 : 3200, i * 20, i < 20);
    expect(stats.snapshot().jitter).toBe(0);
    expect(stats.snapshot().received).toBe(50);
  });
});

describe('round-trip time', () => {
  it('measures RTT from LSR and DLSR (RFC 3550 §6.4.1)', () => {
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
    const ntp = ntpFromUnixMs(t0);
    // Our SR leaves at t0 and reaches the peer after 40 ms; the peer answers 200 ms later and the
    // report takes 60 ms back: RTT = 100 ms.
    const peer = new RtpReceiverStatistics({ clockRate: 8000 });
    peer.update(1, 0, 0, 0);
    peer.onSenderReport(ntp.seconds, ntp.fraction, 10_040);
    const report = peer.reportBlock(10_240);
    expect(report?.lastSenderReport).toBe(ntpMiddle32(ntp));
    expect(report?.delaySinceLastSenderReport).toBe(Math.round(0.2 * 65536));
    const rtt = roundTripTimeMs(report as NonNullable<typeof report>, t0 + 300);
    expect(rtt).toBeGreaterThan(99.9);
    expect(rtt).toBeLessThan(100.1);
  });

  it('is unknown before the peer has seen a sender report', () => {
    expect(roundTripTimeMs({ ...block, lastSenderReport: 0 }, Date.now())).toBeUndefined();
  });

  it('converts wall-clock time to NTP (1900 epoch, 32.32 fixed point)', () => {
    expect(ntpFromUnixMs(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
    expect(ntpFromUnixMs(1500)).toEqual({ seconds: 2_208_988_801, fraction: 0x80000000 });
    expect(ntpMiddle32({ seconds: 0x12345678, fraction: 0x9abcdef0 })).toBe(0x56789abc);
  });
});

describe('E-model MOS', () => {
  it('rates G.711 without loss at about 4.4', () => {
    const { r, mos } = estimateMos({
      impairment: CODEC_IMPAIRMENTS.PCMU,
      packetLossPercent: 0,
      oneWayDelayMs: 40,
    });
    expect(r).toBeGreaterThan(90);
    expect(mos).toBeGreaterThan(4.3);
    expect(mos).toBeLessThanOrEqual(4.5);
  });

  it('rates 5 % loss clearly lower, and bursty loss lower still', () => {
    const clean = estimateMos({
      impairment: CODEC_IMPAIRMENTS.PCMA,
      packetLossPercent: 0,
      oneWayDelayMs: 40,
    }).mos;
    const lossy = estimateMos({
      impairment: CODEC_IMPAIRMENTS.PCMA,
      packetLossPercent: 5,
      oneWayDelayMs: 40,
    }).mos;
    const bursty = estimateMos({
      impairment: CODEC_IMPAIRMENTS.PCMA,
      packetLossPercent: 5,
      oneWayDelayMs: 40,
      burstRatio: 2,
    }).mos;
    expect(lossy).toBeLessThan(clean - 0.3);
    expect(lossy).toBeGreaterThan(3.5);
    expect(bursty).toBeLessThan(lossy);
  });

  it('falls with delay, faster past 177 ms', () => {
    const at = (d: number) =>
      estimateMos({ impairment: CODEC_IMPAIRMENTS.PCMU, packetLossPercent: 0, oneWayDelayMs: d }).r;
    expect(at(100)).toBeLessThan(at(0));
    expect(at(0) - at(100)).toBeCloseTo(2.4, 5);
    expect(at(300) - at(400)).toBeGreaterThan(at(0) - at(100));
  });

  it('maps R to MOS per G.107 Annex B, clamped to 1–4.5', () => {
    expect(rToMos(-5)).toBe(1);
    expect(rToMos(0)).toBe(1);
    expect(rToMos(50)).toBeCloseTo(2.575, 3);
    expect(rToMos(93.2)).toBeCloseTo(4.41, 2);
    expect(rToMos(120)).toBe(4.5);
  });
});

describe('our periodic report', () => {
  it('is an RR with CNAME while we have sent nothing, and an SR once we have', () => {
    const receiver = new RtpReceiverStatistics({ clockRate: 8000 });
    for (let i = 0; i < 50; i++) if (i !== 10) receiver.update(0xbeef, i, i * 160, i * 20);
    const rr = parseRtcpCompound(
      buildRtcpReport({
        ssrc: 0x1111,
        cname: 'call-1@gw',
        receiver,
        nowUnixMs: 1_700_000_000_000,
        nowMs: 1000,
      }),
    );
    expect(rr.map((p) => p.type)).toEqual(['rr', 'sdes']);
    expect(rr[0]).toMatchObject({ type: 'rr', ssrc: 0x1111, reports: [{ ssrc: 0xbeef, cumulativeLost: 1 }] });
    expect(rr[1]).toEqual({
      type: 'sdes',
      chunks: [{ ssrc: 0x1111, items: [{ type: SDES_CNAME, text: 'call-1@gw' }] }],
    });

    const sr = parseRtcpCompound(
      buildRtcpReport({
        ssrc: 0x1111,
        cname: 'call-1@gw',
        sender: {
          stats: { packetsSent: 250, octetsSent: 40_000, lastTimestamp: 1000 },
          rtpTimestampNow: 1160,
        },
        receiver,
        nowUnixMs: 1_700_000_000_000,
        nowMs: 6000,
        bye: { reason: 'hangup' },
      }),
    );
    expect(sr.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    const ntp = ntpFromUnixMs(1_700_000_000_000);
    expect(sr[0]).toMatchObject({
      type: 'sr',
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: 1160,
      packetCount: 250,
      octetCount: 40_000,
      reports: [{ ssrc: 0xbeef, fractionLost: 0 }],
    });
    expect(sr[2]).toEqual({ type: 'bye', ssrcs: [0x1111], reason: 'hangup' });
  });

  it('spreads report intervals over 2.5–7.5 s', () => {
    expect(nextRtcpIntervalMs(() => 0)).toBe(2500);
    expect(nextRtcpIntervalMs(() => 0.999999)).toBeCloseTo(7500, 0);
  });
});
