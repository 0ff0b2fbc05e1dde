import { describe, expect, it } from 'vitest';
import { parseRtpPacket, serializeRtpPacket } from '../../../src/media/rtp/rtpPacket.js';
import { newMasterKey } from '../../../src/media/srtp/sdesCrypto.js';
import { SRTP_SUITES } from '../../../src/media/srtp/srtpSuites.js';
import { SrtpTransform } from '../../../src/media/srtp/srtpTransform.js';
import type { SdesKeys } from '../../../src/media/srtp/srtpTypes.js';

function pair(suiteIndex: number): { alice: SrtpTransform; bob: SrtpTransform; keys: SdesKeys } {
  const suite = SRTP_SUITES[suiteIndex];
  if (!suite) throw new Error('no suite');
  const a = newMasterKey(suite);
  const b = newMasterKey(suite);
  const keys: SdesKeys = { suite: suite.name, tag: 1, local: a, remote: b };
  return { alice: new SrtpTransform(keys), bob: new SrtpTransform({ ...keys, local: b, remote: a }), keys };
}

function rtp(sequenceNumber: number, payload = Buffer.from('hello audio')): Uint8Array {
  return serializeRtpPacket({
    payloadType: 0,
    sequenceNumber,
    timestamp: sequenceNumber * 160,
    ssrc: 0x1234,
    marker: false,
    payload,
  });
}

describe.each([0, 1])('SrtpTransform, %s', (suiteIndex) => {
  it('round-trips RTP and RTCP, and the ciphertext is not the plaintext', () => {
    const { alice, bob } = pair(suiteIndex);
    const packet = rtp(1000);
    const wire = alice.protectRtp(packet);
    expect(wire.subarray(12).includes(Buffer.from('hello audio'))).toBe(false);
    const back = bob.unprotectRtp(wire);
    expect(back.ok).toBe(true);
    if (back.ok) expect(Buffer.from(parseRtpPacket(back.packet).payload).toString()).toBe('hello audio');
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0x12, 0x34]);
    const rtcp = bob.unprotectRtcp(alice.protectRtcp(rr));
    expect(rtcp.ok && rtcp.packet.equals(rr)).toBe(true);
  });

  it('refuses a tampered packet, a replay, and a stranger key', () => {
    const { alice, bob } = pair(suiteIndex);
    const wire = alice.protectRtp(rtp(5));
    const tampered = Buffer.from(wire);
    tampered[14] = (tampered[14] ?? 0) ^ 1;
    expect(bob.unprotectRtp(tampered)).toEqual({ ok: false, failure: 'auth' });
    expect(bob.unprotectRtp(wire).ok).toBe(true);
    expect(bob.unprotectRtp(wire)).toEqual({ ok: false, failure: 'replay' });
    const rtcpWire = alice.protectRtcp(Buffer.from([0x80, 201, 0, 1, 0, 0, 0x12, 0x34]));
    expect(bob.unprotectRtcp(rtcpWire).ok).toBe(true);
    expect(bob.unprotectRtcp(rtcpWire)).toEqual({ ok: false, failure: 'replay' });
    const { alice: stranger } = pair(suiteIndex);
    expect(bob.unprotectRtp(stranger.protectRtp(rtp(6)))).toEqual({ ok: false, failure: 'auth' });
  });

  it('keeps the rollover counter across a sequence wrap, and takes late packets once', () => {
    const { alice, bob } = pair(suiteIndex);
    const sent = [65533, 65534, 65535, 0, 1, 2].map((seq) => alice.protectRtp(rtp(seq)));
    // 65535 arrives after the wrap: still decrypted with the old ROC.
    for (const index of [0, 1, 3, 2, 4, 5]) expect(bob.unprotectRtp(sent[index] as Buffer).ok).toBe(true);
    expect(bob.unprotectRtp(sent[2] as Buffer)).toEqual({ ok: false, failure: 'replay' });
    // A whole second cycle, packet by packet, keeps both counters in step.
    for (let seq = 3; seq < 65_536 + 10; seq++) {
      const ok = bob.unprotectRtp(alice.protectRtp(rtp(seq % 65_536))).ok;
      if (!ok) throw new Error(`packet ${seq} not decrypted`);
    }
  });

  it('a rekey of the remote key restarts receiving; an unchanged key keeps the context', () => {
    const { alice, bob, keys } = pair(suiteIndex);
    expect(bob.unprotectRtp(alice.protectRtp(rtp(10))).ok).toBe(true);
    bob.rekey({ ...keys, local: keys.remote, remote: keys.local });
    expect(bob.unprotectRtp(alice.protectRtp(rtp(11))).ok).toBe(true);
    const suite = SRTP_SUITES[suiteIndex];
    if (!suite) throw new Error('no suite');
    const fresh = newMasterKey(suite);
    const alice2 = new SrtpTransform({ ...keys, local: fresh });
    bob.rekey({ ...keys, local: keys.remote, remote: fresh });
    expect(bob.unprotectRtp(alice.protectRtp(rtp(12))).ok).toBe(false);
    expect(bob.unprotectRtp(alice2.protectRtp(rtp(13))).ok).toBe(true);
  });
});
