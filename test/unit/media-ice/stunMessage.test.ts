import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../src/media/ice/crc32.js';
import {
  decodeStun,
  encodeStun,
  hasValidFingerprint,
  isStunPacket,
  newTransactionId,
  STUN_BINDING,
  type StunMessage,
  verifyIntegrity,
} from '../../../src/media/ice/stunMessage.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// RFC 5769 test vectors, as printed in the RFC.
const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
const SAMPLE_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
const SAMPLE_IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

describe('RFC 5769 test vectors', () => {
  it('the sample request decodes, and its integrity and fingerprint verify', () => {
    const message = decodeStun(SAMPLE_REQUEST);
    expect(message).not.toBeNull();
    if (!message) return;
    expect(message.class).toBe('request');
    expect(message.method).toBe(STUN_BINDING);
    expect(message.username).toBe('evtj:h6vY');
    expect(message.priority).toBe(0x6e0001ff);
    expect(message.iceControlled).toBe(0x932ff9b151263b36n);
    expect(verifyIntegrity(message, SAMPLE_REQUEST, PASSWORD)).toBe(true);
    expect(verifyIntegrity(message, SAMPLE_REQUEST, 'wrong')).toBe(false);
    expect(hasValidFingerprint(message, SAMPLE_REQUEST)).toBe(true);
  });

  it('the IPv4 response decodes XOR-MAPPED-ADDRESS 192.0.2.1:32853', () => {
    const message = decodeStun(SAMPLE_IPV4_RESPONSE);
    expect(message?.class).toBe('success');
    expect(message?.xorMappedAddress).toEqual({ address: '192.0.2.1', port: 32853 });
    if (!message) return;
    expect(verifyIntegrity(message, SAMPLE_IPV4_RESPONSE, PASSWORD)).toBe(true);
    expect(hasValidFingerprint(message, SAMPLE_IPV4_RESPONSE)).toBe(true);
  });

  it('the IPv6 response decodes XOR-MAPPED-ADDRESS 2001:db8:1234:5678:11:2233:4455:6677 port 32853', () => {
    const message = decodeStun(SAMPLE_IPV6_RESPONSE);
    expect(message?.xorMappedAddress).toEqual({
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
    });
    if (!message) return;
    expect(verifyIntegrity(message, SAMPLE_IPV6_RESPONSE, PASSWORD)).toBe(true);
    expect(hasValidFingerprint(message, SAMPLE_IPV6_RESPONSE)).toBe(true);
  });
});

describe('encode and decode', () => {
  it('a binding request round-trips with every ICE attribute, integrity and fingerprint', () => {
    const request: StunMessage = {
      class: 'request',
      method: STUN_BINDING,
      transactionId: newTransactionId(),
      username: 'abcd:efgh',
      priority: 1845501695,
      useCandidate: true,
      iceControlling: 0xffffffffffffffffn,
    };
    const packet = encodeStun(request, { password: 'a-password-of-22-chars' });
    expect(isStunPacket(packet)).toBe(true);
    const decoded = decodeStun(packet);
    expect(decoded).toMatchObject({ ...request, transactionId: request.transactionId });
    if (!decoded) return;
    expect(verifyIntegrity(decoded, packet, 'a-password-of-22-chars')).toBe(true);
    expect(hasValidFingerprint(decoded, packet)).toBe(true);
    const tampered = Buffer.from(packet);
    tampered[25] = (tampered[25] ?? 0) ^ 1;
    const reread = decodeStun(tampered);
    expect(reread && verifyIntegrity(reread, tampered, 'a-password-of-22-chars')).toBe(false);
    expect(reread && hasValidFingerprint(reread, tampered)).toBe(false);
  });

  it('success and error responses round-trip, IPv6 mapped addresses too', () => {
    const transactionId = newTransactionId();
    const success = encodeStun(
      {
        class: 'success',
        method: STUN_BINDING,
        transactionId,
        xorMappedAddress: { address: '::1', port: 5 },
      },
      { password: 'pw' },
    );
    expect(decodeStun(success)).toMatchObject({
      class: 'success',
      xorMappedAddress: { address: '::1', port: 5 },
    });
    const error = encodeStun({
      class: 'error',
      method: STUN_BINDING,
      transactionId,
      errorCode: { code: 487, reason: 'Role Conflict' },
      iceControlled: 7n,
    });
    expect(decodeStun(error)).toMatchObject({
      class: 'error',
      errorCode: { code: 487, reason: 'Role Conflict' },
      iceControlled: 7n,
      integrityOffset: null,
    });
  });

  it('CRC-32 is the zlib one', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('garbage', () => {
  it('isStunPacket tells STUN from RTP, DTLS and short datagrams', () => {
    expect(isStunPacket(SAMPLE_REQUEST)).toBe(true);
    expect(isStunPacket(Buffer.from([0x80, 0, 0, 0]))).toBe(false);
    const dtls = Buffer.from(SAMPLE_REQUEST);
    dtls[0] = 22;
    expect(isStunPacket(dtls)).toBe(false);
    expect(isStunPacket(SAMPLE_REQUEST.subarray(0, 19))).toBe(false);
  });

  it('decoding never throws and gives null on anything malformed', () => {
    expect(decodeStun(Buffer.alloc(0))).toBeNull();
    expect(decodeStun(Buffer.from('not a stun message at all'))).toBeNull();
    // A truncated datagram: the length field no longer matches.
    expect(decodeStun(SAMPLE_REQUEST.subarray(0, SAMPLE_REQUEST.length - 4))).toBeNull();
    // An attribute claiming more bytes than there are.
    const overlong = Buffer.from(SAMPLE_REQUEST);
    overlong.writeUInt16BE(0xfff0, 22);
    expect(decodeStun(overlong)).toBeNull();
    // Bytes after FINGERPRINT.
    const trailing = Buffer.concat([SAMPLE_REQUEST, Buffer.from([0, 0x24, 0, 4, 1, 2, 3, 4])]);
    trailing.writeUInt16BE(trailing.length - 20, 2);
    expect(decodeStun(trailing)).toBeNull();
    for (let seed = 0; seed < 2000; seed++) {
      const random = Buffer.from(SAMPLE_REQUEST);
      random[20 + (seed % (random.length - 20))] = (seed * 131) & 0xff;
      random[20 + ((seed * 7) % (random.length - 20))] = (seed * 17) & 0xff;
      expect(() => decodeStun(random)).not.toThrow();
    }
  });
});
