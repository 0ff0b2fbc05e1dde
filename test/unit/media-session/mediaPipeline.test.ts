import { describe, expect, it } from 'vitest';
import { createCodec } from '../../../src/media/codecs/createCodec.js';
import { parseTelephoneEvent } from '../../../src/media/dtmf/telephoneEvent.js';
import { parseRtpPacket } from '../../../src/media/rtp/rtpPacket.js';
import type { NegotiatedAudio } from '../../../src/media/sdp/sdpTypes.js';
import { MediaPipeline } from '../../../src/media/session/mediaPipeline.js';
import { analyseTone, ToneGenerator } from '../../support/tone.js';

function pcmu(ptimeMs = 20): NegotiatedAudio {
  return {
    codec: { name: 'PCMU', payloadType: 0, clockRate: 8000, channels: 1, opus: null },
    telephoneEvent: { payloadType: 101, clockRate: 8000, events: '0-16' },
    ptimeMs,
    direction: 'sendrecv',
    remoteRtp: { address: '127.0.0.1', port: 4000 },
    remoteRtcp: { address: '127.0.0.1', port: 4001 },
    rtcpMux: false,
    profile: 'RTP/AVP',
    encryption: { keying: 'none', suite: null },
    remoteHoldByAddress: false,
  };
}

const ids = { ssrc: 1234, initialSequenceNumber: 100, initialTimestamp: 8000 };

describe('MediaPipeline', () => {
  it('sends silence without resampling, then the room tone cleanly, with continuous timestamps', () => {
    const pipeline = new MediaPipeline(pcmu(), ids);
    const decoder = createCodec('PCMU');
    const tone = new ToneGenerator({ frequencyHz: 440, sampleRate: 48_000, amplitude: 0.4 });
    const timestamps: number[] = [];
    const decoded: number[] = [];
    for (let tick = 0; tick < 60; tick++) {
      const packet = pipeline.nextPacket(tick < 10 ? null : tone.next(960));
      const parsed = parseRtpPacket(packet as Uint8Array);
      timestamps.push(parsed.timestamp);
      if (tick < 10) expect(new Set(parsed.payload)).toEqual(new Set([0xff]));
      else decoded.push(...decoder.decode(parsed.payload));
    }
    expect(timestamps.every((ts, i) => i === 0 || ts - (timestamps[i - 1] as number) === 160)).toBe(true);
    const heard = analyseTone(decoded.slice(800), 8000);
    expect(Math.abs(heard.frequencyHz - 440)).toBeLessThanOrEqual(2);
    expect(heard.purity).toBeGreaterThan(0.9);
    pipeline.close();
  });

  it('packs two frames per packet at ptime 40 and lets a digit interrupt audio without losing clock', () => {
    const pipeline = new MediaPipeline(pcmu(40), ids);
    const packets: ReturnType<typeof parseRtpPacket>[] = [];
    const tick = (): void => {
      const packet = pipeline.nextPacket(null);
      if (packet) packets.push(parseRtpPacket(Uint8Array.from(packet)));
    };
    for (let i = 0; i < 4; i++) tick();
    expect(packets.map((p) => p.payload.length)).toEqual([320, 320]);
    tick(); // half a packet gathered, then the digit takes over
    pipeline.queueDtmf('5', 60);
    for (let i = 0; i < 8; i++) tick();
    const events = packets.filter((p) => p.payloadType === 101);
    expect(events.map((p) => parseTelephoneEvent(p.payload).end)).toEqual([false, false, true, true, true]);
    expect(events[0]?.marker).toBe(true);
    const event = events[0] as (typeof events)[number];
    // The digit starts where the dropped half packet would have: 5 frames after the first packet.
    expect(event.timestamp - (packets[0]?.timestamp as number)).toBe(5 * 160);
    const after = packets.filter((p) => p.payloadType === 0).slice(2);
    expect(after[0]?.marker).toBe(true);
    expect((after[0]?.timestamp as number) - event.timestamp).toBe(5 * 160);
    expect(() => pipeline.queueDtmf('x', 60)).toThrow();
    pipeline.close();
  });
});
