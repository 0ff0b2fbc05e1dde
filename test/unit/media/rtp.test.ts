import { describe, expect, it } from 'vitest';
import {
  looksLikeRtcp,
  parseRtpPacket,
  RtpParseError,
  RtpSender,
  SequenceUnwrapper,
  serializeRtpPacket,
  TimestampUnwrapper,
} from '../../../src/media/rtp/index.js';

describe('RTP packets', () => {
  it('round-trips every header field, CSRCs, an extension and padding', () => {
    const payload = Uint8Array.of(1, 2, 3, 4, 5);
    const bytes = serializeRtpPacket({
      marker: true,
      payloadType: 111,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      csrcs: [1, 0xffffffff],
      extension: { profile: 0xbede, data: Uint8Array.of(0x10, 0xaa, 0, 0) },
      payload,
      paddingLength: 3,
    });
    expect(bytes.length).toBe(12 + 8 + 8 + 5 + 3);
    const packet = parseRtpPacket(bytes);
    expect(packet).toMatchObject({
      version: 2,
      padding: true,
      marker: true,
      payloadType: 111,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      csrcs: [1, 0xffffffff],
      paddingLength: 3,
    });
    expect(packet.extension?.profile).toBe(0xbede);
    expect([...(packet.extension?.data ?? [])]).toEqual([0x10, 0xaa, 0, 0]);
    expect([...packet.payload]).toEqual([1, 2, 3, 4, 5]);
  });

  it('parses a known PCMU packet byte for byte and returns views, not copies', () => {
    const wire = Uint8Array.of(0x80, 0x00, 0x12, 0x34, 0, 0, 0x03, 0x20, 0x11, 0x22, 0x33, 0x44, 0xff, 0xfe);
    const packet = parseRtpPacket(wire);
    expect(packet).toMatchObject({ marker: false, payloadType: 0, sequenceNumber: 0x1234, timestamp: 800 });
    expect(packet.ssrc).toBe(0x11223344);
    expect(packet.csrcs).toEqual([]);
    expect(packet.extension).toBeUndefined();
    expect(packet.payload.buffer).toBe(wire.buffer);
    expect(packet.payload.byteOffset).toBe(12);
    expect(serializeRtpPacket({ ...packet })).toEqual(wire);
  });

  it('parses packets at an offset inside a larger buffer (a socket receive buffer)', () => {
    const inner = serializeRtpPacket({
      payloadType: 8,
      sequenceNumber: 7,
      timestamp: 9,
      ssrc: 3,
      payload: Uint8Array.of(9),
    });
    const big = new Uint8Array(100);
    big.set(inner, 37);
    const packet = parseRtpPacket(big.subarray(37, 37 + inner.length));
    expect([packet.payloadType, packet.sequenceNumber, packet.timestamp, packet.ssrc]).toEqual([8, 7, 9, 3]);
    expect([...packet.payload]).toEqual([9]);
  });

  it.each([
    ['empty', Uint8Array.of()],
    ['shorter than a header', Uint8Array.of(0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)],
    ['version 1', Uint8Array.of(0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1)],
    ['version 0 (STUN-like)', Uint8Array.of(0x00, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1)],
    ['CSRC count past the end', Uint8Array.of(0x83, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1)],
    ['extension header missing', Uint8Array.of(0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe)],
    [
      'extension longer than the packet',
      Uint8Array.of(0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9),
    ],
    ['padding count zero', Uint8Array.of(0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0)],
    ['padding longer than the payload', Uint8Array.of(0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 5, 9)],
  ])('rejects a malformed packet (%s) with RtpParseError', (_name, bytes) => {
    expect(() => parseRtpPacket(bytes)).toThrow(RtpParseError);
  });

  it('survives random garbage: every datagram parses or throws RtpParseError', () => {
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const bytes = new Uint8Array(random() % 40);
      for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff;
      if (bytes.length > 0) bytes[0] = ((bytes[0] as number) & 0x3f) | 0x80;
      try {
        const packet = parseRtpPacket(bytes);
        expect(packet.payload.length).toBeGreaterThanOrEqual(0);
      } catch (error) {
        expect(error).toBeInstanceOf(RtpParseError);
      }
    }
  });

  it('refuses to write what RTP cannot carry', () => {
    const base = { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Uint8Array.of(1) };
    expect(() => serializeRtpPacket({ ...base, payloadType: 128 })).toThrow(RangeError);
    expect(() => serializeRtpPacket({ ...base, csrcs: new Array(16).fill(1) })).toThrow(RangeError);
    expect(() => serializeRtpPacket(base, new Uint8Array(5))).toThrow(RangeError);
    expect(() => serializeRtpPacket({ ...base, extension: { profile: 1, data: Uint8Array.of(1) } })).toThrow(
      RangeError,
    );
  });

  it('tells RTCP from RTP on a shared port (RFC 5761)', () => {
    expect(looksLikeRtcp(Uint8Array.of(0x80, 200))).toBe(true);
    expect(looksLikeRtcp(Uint8Array.of(0x81, 201))).toBe(true);
    expect(looksLikeRtcp(Uint8Array.of(0x80, 0))).toBe(false);
    expect(looksLikeRtcp(Uint8Array.of(0x80, 0x80 | 111))).toBe(false);
  });
});

describe('SequenceUnwrapper', () => {
  it('extends across the 16-bit wrap, in order and reordered', () => {
    const unwrapper = new SequenceUnwrapper();
    expect([65533, 65534, 65535, 0, 1].map((s) => unwrapper.unwrap(s))).toEqual([
      65533, 65534, 65535, 65536, 65537,
    ]);
    expect(unwrapper.unwrap(65535)).toBe(65535); // a late packet from before the wrap
    expect(unwrapper.unwrap(3)).toBe(65539);
    expect(unwrapper.highestExtended).toBe(65539);
  });

  it('takes a packet from just before the first one as older, not as a wrap', () => {
    const unwrapper = new SequenceUnwrapper();
    unwrapper.unwrap(2);
    expect(unwrapper.unwrap(65535)).toBe(-1);
    expect(unwrapper.unwrap(3)).toBe(3);
  });

  it('extends 32-bit timestamps too', () => {
    const unwrapper = new TimestampUnwrapper();
    unwrapper.unwrap(0xffffff00);
    expect(unwrapper.unwrap(0x60)).toBe(0x100000060);
  });
});

describe('RtpSender', () => {
  const options = {
    ssrc: 0x1234,
    payloadType: 0,
    clockRate: 8000,
    ticksPerFrame: 160,
    initialSequenceNumber: 65534,
    initialTimestamp: 0xffffff00,
  };

  it('advances sequence and timestamp per frame, wrapping, with the marker on the talkspurt start', () => {
    const sender = new RtpSender(options);
    const packets = [0, 1, 2].map(() =>
      parseRtpPacket(Uint8Array.from(sender.nextMediaPacket(new Uint8Array(160)))),
    );
    expect(packets.map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0]);
    expect(packets.map((p) => p.timestamp)).toEqual([0xffffff00, 0xffffffa0, 0x40]);
    expect(packets.map((p) => p.marker)).toEqual([true, false, false]);
    expect(packets.every((p) => p.ssrc === 0x1234 && p.payloadType === 0)).toBe(true);
    expect(sender.getStats()).toEqual({ packetsSent: 3, octetsSent: 480, lastTimestamp: 0x40 });
  });

  it('keeps the clock running through silence and marks the next talkspurt', () => {
    const sender = new RtpSender(options);
    sender.nextMediaPacket(new Uint8Array(160));
    sender.skipFrames(10);
    const packet = parseRtpPacket(sender.nextMediaPacket(new Uint8Array(160)));
    expect(packet.timestamp).toBe((0xffffff00 + 11 * 160) >>> 0);
    expect(packet.sequenceNumber).toBe(65535);
    expect(packet.marker).toBe(true);
  });

  it('writes telephone-event packets in the same sequence space with their own timestamp', () => {
    const sender = new RtpSender(options);
    sender.nextMediaPacket(new Uint8Array(160));
    const event = parseRtpPacket(sender.writePacket(101, Uint8Array.of(5, 0x0a, 0, 160), 4242, true));
    expect([event.payloadType, event.sequenceNumber, event.timestamp, event.marker]).toEqual([
      101,
      65535,
      4242,
      true,
    ]);
    expect(parseRtpPacket(sender.nextMediaPacket(new Uint8Array(160))).sequenceNumber).toBe(0);
  });

  it('reuses one buffer for every packet', () => {
    const sender = new RtpSender(options);
    const a = sender.nextMediaPacket(new Uint8Array(10));
    const b = sender.nextMediaPacket(new Uint8Array(20));
    expect(a.buffer).toBe(b.buffer);
  });
});
