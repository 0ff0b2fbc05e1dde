import { describe, expect, it } from 'vitest';
import { type CodecName, createCodec, Resampler } from '../../../src/media/codecs/index.js';
import { AdaptiveJitterBuffer, JitterPlayout } from '../../../src/media/jitter/index.js';
import { RtpReceiverStatistics } from '../../../src/media/rtcp/index.js';
import { parseRtpPacket, RtpSender } from '../../../src/media/rtp/index.js';
import { analyseTone, ToneGenerator } from '../../support/tone.js';

/**
 * The pieces together, as a media worker chains them: a 1 kHz tone is encoded, sent as RTP over a
 * network that reorders and loses packets, received into the jitter buffer and RTCP statistics,
 * played out 20 ms per tick, and resampled to LiveKit's 48 kHz. The tone must survive.
 */
describe.each(['PCMU', 'PCMA', 'G722', 'opus'] as CodecName[])('receive path with %s', (name) => {
  it('delivers a clean 1 kHz tone at 48 kHz through reordering and 2 % loss', () => {
    const sendCodec = createCodec(name);
    const receiveCodec = createCodec(name);
    const sender = new RtpSender({
      ssrc: 0x7777,
      payloadType: sendCodec.payloadType,
      clockRate: sendCodec.clockRate,
      ticksPerFrame: sendCodec.ticksPerFrame,
      initialSequenceNumber: 65000,
      initialTimestamp: 0xfffff000,
    });
    const buffer = new AdaptiveJitterBuffer({
      clockRate: receiveCodec.clockRate,
      ticksPerFrame: receiveCodec.ticksPerFrame,
    });
    const playout = new JitterPlayout(buffer, receiveCodec);
    const statistics = new RtpReceiverStatistics({ clockRate: receiveCodec.clockRate });
    const resampler = new Resampler({ inputRate: receiveCodec.sampleRate, outputRate: 48000 });
    const tone = new ToneGenerator({ frequencyHz: 1000, sampleRate: sendCodec.sampleRate, amplitude: 0.4 });

    // The network: every 50th packet lost, every 7th held back 30 ms (arrives after the next one).
    const inFlight: { at: number; bytes: Uint8Array }[] = [];
    const output: number[] = [];
    const frames = 150;
    for (let tick = 0; tick < frames; tick++) {
      const now = tick * 20;
      const wire = Uint8Array.from(
        sender.nextMediaPacket(sendCodec.encode(tone.next(sendCodec.samplesPerFrame))),
      );
      if (tick % 50 !== 25) inFlight.push({ at: now + (tick % 7 === 3 ? 30 : 5), bytes: wire });
      inFlight.sort((a, b) => a.at - b.at);
      while (inFlight.length > 0 && (inFlight[0]?.at ?? 0) <= now + 10) {
        const arrival = inFlight.shift() as { at: number; bytes: Uint8Array };
        const packet = parseRtpPacket(arrival.bytes);
        statistics.update(packet.ssrc, packet.sequenceNumber, packet.timestamp, arrival.at);
        buffer.insert(packet, arrival.at);
      }
      output.push(...resampler.process(playout.next()));
    }

    const stats = buffer.getStats();
    expect(stats.lost).toBe(3);
    expect(stats.late).toBe(0);
    expect(statistics.snapshot().cumulativeLost).toBe(3);
    // Analyse the last 2 s: past the jitter buffer's fill and the codecs' start-up.
    const analysis = analyseTone(output.slice(-96000), 48000);
    expect(Math.abs(analysis.frequencyHz - 1000)).toBeLessThanOrEqual(2);
    expect(Math.abs(analysis.levelDbfs - 20 * Math.log10(0.4 / Math.SQRT2))).toBeLessThanOrEqual(1.5);
    expect(analysis.purity).toBeGreaterThan(0.9);
  });
});
