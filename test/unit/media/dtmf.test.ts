import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DtmfReceiver,
  DtmfSender,
  digitToEvent,
  encodeTelephoneEvent,
  eventToDigit,
  parseSipInfoDtmf,
  parseTelephoneEvent,
  TelephoneEventParseError,
  telephoneEventPackets,
} from '../../../src/media/dtmf/index.js';
import { parseRtpPacket, RtpSender } from '../../../src/media/rtp/index.js';
import { readPcapUdp } from './pcapUdp.js';

/** Bytes of an RFC 4733 payload. */
const event = (code: number, end: boolean, duration: number) =>
  encodeTelephoneEvent({ event: code, end, volume: 10, duration });

describe('telephone-event payloads', () => {
  it('parses and encodes the RFC 4733 layout', () => {
    const bytes = Uint8Array.of(0x05, 0x8a, 0x08, 0xc0);
    expect(parseTelephoneEvent(bytes)).toEqual({ event: 5, end: true, volume: 10, duration: 2240 });
    expect(encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 2240 })).toEqual(bytes);
    expect(encodeTelephoneEvent({ event: 11, end: false, volume: 63, duration: 70000 })).toEqual(
      Uint8Array.of(11, 0x3f, 0xff, 0xff),
    );
  });

  it('rejects a short payload with an error', () => {
    expect(() => parseTelephoneEvent(Uint8Array.of(1, 2, 3))).toThrow(TelephoneEventParseError);
  });

  it('maps digits and event codes both ways', () => {
    expect(['0', '9', '*', '#', 'A', 'd'].map(digitToEvent)).toEqual([0, 9, 10, 11, 12, 15]);
    expect([0, 10, 11, 15, 16, 40].map(eventToDigit)).toEqual(['0', '*', '#', 'D', undefined, undefined]);
    expect(digitToEvent('x')).toBeUndefined();
  });
});

describe('DtmfReceiver', () => {
  it('reports a digit once from a sipp-like sequence with three end packets', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000 });
    const digits = [];
    const ts = 43200;
    for (let i = 0; i < 7; i++) digits.push(...receiver.receive(ts, event(5, false, i * 320), i * 20));
    for (let i = 0; i < 3; i++) digits.push(...receiver.receive(ts, event(5, true, 2240), 140));
    expect(digits).toEqual([{ digit: '5', event: 5, timestamp: ts, durationMs: 280, reason: 'end' }]);
  });

  it('reports two presses of the same key as two digits (their timestamps differ)', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000 });
    const digits = [];
    for (const ts of [1000, 3000]) {
      digits.push(...receiver.receive(ts, event(1, false, 160), ts));
      for (let i = 0; i < 3; i++) digits.push(...receiver.receive(ts, event(1, true, 800), ts + 100));
    }
    expect(digits.map((d) => d.digit)).toEqual(['1', '1']);
  });

  it('ignores reordered and late retransmissions of a reported event', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000 });
    const digits = [];
    digits.push(...receiver.receive(500, event(11, true, 800), 100)); // end overtook the updates
    digits.push(...receiver.receive(500, event(11, false, 160), 101));
    digits.push(...receiver.receive(500, event(11, false, 320), 102));
    digits.push(...receiver.receive(500, event(11, true, 800), 103));
    expect(digits.map((d) => d.digit)).toEqual(['#']);
  });

  it('still reports a digit whose end packets were all lost', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000, timeoutMs: 500 });
    expect(receiver.receive(100, event(7, false, 160), 0)).toEqual([]);
    expect(receiver.receive(100, event(7, false, 320), 20)).toEqual([]);
    // The next event reveals it.
    const next = receiver.receive(2000, event(8, false, 160), 300);
    expect(next.map((d) => [d.digit, d.reason, d.durationMs])).toEqual([['7', 'superseded', 40]]);
    // And silence reveals the next one.
    expect(receiver.poll(700)).toEqual([]);
    expect(receiver.poll(900).map((d) => [d.digit, d.reason])).toEqual([['8', 'timeout']]);
    expect(receiver.poll(2000)).toEqual([]);
  });

  it('can report on the first packet instead, still once', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000, emitOn: 'start' });
    const digits = [];
    digits.push(...receiver.receive(9, event(3, false, 160), 0));
    digits.push(...receiver.receive(9, event(3, false, 320), 20));
    for (let i = 0; i < 3; i++) digits.push(...receiver.receive(9, event(3, true, 640), 40));
    expect(digits.map((d) => [d.digit, d.reason, d.durationMs])).toEqual([['3', 'start', 20]]);
  });

  it('counts a malformed payload and carries on', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000 });
    expect(receiver.receive(1, Uint8Array.of(1), 0)).toEqual([]);
    expect(receiver.malformed).toBe(1);
    expect(receiver.receive(2, event(0, true, 160), 0).map((d) => d.digit)).toEqual(['0']);
  });

  it('ignores flash and non-DTMF events without reporting a digit', () => {
    const receiver = new DtmfReceiver({ clockRate: 8000 });
    expect(receiver.receive(1, event(16, true, 160), 0)).toEqual([]);
    expect(receiver.receive(2, event(36, true, 160), 0)).toEqual([]);
  });

  const captures = '/usr/share/sip-tester';
  const files = [
    ...['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => [d, `dtmf_2833_${d}.pcap`]),
    ['#', 'dtmf_2833_pound.pcap'],
    ['*', 'dtmf_2833_star.pcap'],
  ];
  it.skipIf(!existsSync(`${captures}/dtmf_2833_1.pcap`)).each(files)(
    "reports '%s' once from sipp's capture %s",
    (digit, file) => {
      const receiver = new DtmfReceiver({ clockRate: 8000 });
      const digits = [];
      for (const { payload, timeMs } of readPcapUdp(`${captures}/${file}`)) {
        const rtp = parseRtpPacket(payload);
        expect(rtp.payloadType).toBe(101);
        digits.push(...receiver.receive(rtp.timestamp, rtp.payload, timeMs));
      }
      digits.push(...receiver.poll(Number.MAX_SAFE_INTEGER));
      expect(digits.map((d) => [d.digit, d.reason])).toEqual([[digit, 'end']]);
    },
  );
});

describe('DTMF sending', () => {
  it('produces start, updates and three end packets with one timestamp', () => {
    const packets = telephoneEventPackets('9', 12345, 100, { clockRate: 8000 });
    expect(packets.map((p) => parseTelephoneEvent(p.payload))).toEqual([
      { event: 9, end: false, volume: 10, duration: 160 },
      { event: 9, end: false, volume: 10, duration: 320 },
      { event: 9, end: false, volume: 10, duration: 480 },
      { event: 9, end: false, volume: 10, duration: 640 },
      { event: 9, end: true, volume: 10, duration: 800 },
      { event: 9, end: true, volume: 10, duration: 800 },
      { event: 9, end: true, volume: 10, duration: 800 },
    ]);
    expect(packets.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(packets.every((p) => p.timestamp === 12345)).toBe(true);
  });

  it('scales to a 48 kHz telephone-event clock and caps the 16-bit duration', () => {
    const packets = telephoneEventPackets('#', 0, 2000, { clockRate: 48000 });
    expect(parseTelephoneEvent(packets[0]?.payload ?? new Uint8Array(4)).duration).toBe(960);
    expect(parseTelephoneEvent(packets.at(-1)?.payload ?? new Uint8Array(4)).duration).toBe(65535);
  });

  it('rejects what is not a digit', () => {
    expect(() => telephoneEventPackets('x', 0, 100, { clockRate: 8000 })).toThrow(RangeError);
    expect(() => new DtmfSender({ clockRate: 8000 }).enqueue('55')).toThrow(RangeError);
  });

  it('round-trips through an RTP sender and our receiver as the digits sent, in order', () => {
    const rtp = new RtpSender({
      ssrc: 1,
      payloadType: 0,
      clockRate: 8000,
      ticksPerFrame: 160,
      initialSequenceNumber: 100,
      initialTimestamp: 1000,
    });
    const sender = new DtmfSender({ clockRate: 8000 });
    const receiver = new DtmfReceiver({ clockRate: 8000 });
    for (const digit of ['1', '2', '2', '#']) sender.enqueue(digit, 60);
    const received: string[] = [];
    const sequenceNumbers: number[] = [];
    for (let tick = 0; tick < 100 && sender.busy; tick++) {
      const packet = sender.next(rtp.nextTimestamp);
      if (!packet) break;
      const wire = rtp.writePacket(101, packet.payload, packet.timestamp, packet.marker);
      rtp.skipFrames(1); // the media clock keeps running while the event plays
      const parsed = parseRtpPacket(wire);
      sequenceNumbers.push(parsed.sequenceNumber);
      received.push(...receiver.receive(parsed.timestamp, parsed.payload, tick * 20).map((d) => d.digit));
    }
    expect(received).toEqual(['1', '2', '2', '#']);
    expect(sequenceNumbers).toEqual(sequenceNumbers.map((_, i) => 100 + i));
  });
});

describe('SIP INFO DTMF', () => {
  it('reads application/dtmf-relay', () => {
    expect(parseSipInfoDtmf('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({
      digit: '5',
      durationMs: 160,
    });
    expect(parseSipInfoDtmf('Application/DTMF-Relay; charset=x', 'signal= #\nduration = 250')).toEqual({
      digit: '#',
      durationMs: 250,
    });
    expect(parseSipInfoDtmf('application/dtmf-relay', 'Signal=11\r\n')).toEqual({
      digit: '#',
      durationMs: undefined,
    });
    expect(parseSipInfoDtmf('application/dtmf-relay', 'Signal=a')).toEqual({
      digit: 'A',
      durationMs: undefined,
    });
  });

  it('reads application/dtmf', () => {
    expect(parseSipInfoDtmf('application/dtmf', '5')).toEqual({ digit: '5', durationMs: undefined });
    expect(parseSipInfoDtmf('application/dtmf', ' *\r\n')).toEqual({ digit: '*', durationMs: undefined });
    expect(parseSipInfoDtmf('application/dtmf', '10')).toEqual({ digit: '*', durationMs: undefined });
  });

  it('refuses other types and unreadable bodies', () => {
    expect(parseSipInfoDtmf('application/sdp', 'v=0')).toBeUndefined();
    expect(parseSipInfoDtmf('application/dtmf-relay', 'Duration=160')).toBeUndefined();
    expect(parseSipInfoDtmf('application/dtmf-relay', 'Signal=X')).toBeUndefined();
    expect(parseSipInfoDtmf('application/dtmf', '')).toBeUndefined();
    expect(parseSipInfoDtmf('application/dtmf', '55')).toBeUndefined();
  });
});
