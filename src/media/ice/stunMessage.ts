import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from './crc32.js';
import type { IceEndpoint } from './iceTypes.js';
import {
  ATTR,
  attribute,
  decodeErrorCode,
  decodeXorAddress,
  encodeErrorCode,
  encodeXorAddress,
  MAGIC_COOKIE,
  uint32,
  uint64,
} from './stunAttributes.js';

/** The only method ICE uses. */
export const STUN_BINDING = 0x0001;

export type StunClass = 'request' | 'indication' | 'success' | 'error';

/** The attributes this agent understands; others are skipped when decoding. */
export interface StunMessage {
  class: StunClass;
  method: number;
  /** 12 bytes (RFC 5389 §6). */
  transactionId: Buffer;
  username?: string;
  xorMappedAddress?: IceEndpoint;
  priority?: number;
  useCandidate?: boolean;
  iceControlling?: bigint;
  iceControlled?: bigint;
  errorCode?: { code: number; reason: string };
}

/** A decoded message, with where its MESSAGE-INTEGRITY and FINGERPRINT start so they can be checked. */
export interface DecodedStun extends StunMessage {
  integrityOffset: number | null;
  fingerprintOffset: number | null;
}

export interface StunEncodeOptions {
  /** Adds MESSAGE-INTEGRITY keyed with this short-term password (RFC 5389 §15.4). */
  password?: string;
  /** Adds FINGERPRINT; on by default, since ICE requires it (RFC 8445 §7.1). */
  fingerprint?: boolean;
}

const HEADER = 20;
const FINGERPRINT_XOR = 0x5354554e;
const CLASS_BITS: Record<StunClass, number> = {
  request: 0x000,
  indication: 0x010,
  success: 0x100,
  error: 0x110,
};

/** RFC 7983 demultiplexing: a first byte of 0–3, a full header and the magic cookie. */
export function isStunPacket(data: Buffer): boolean {
  return data.length >= HEADER && (data[0] ?? 0xff) <= 3 && data.readUInt32BE(4) === MAGIC_COOKIE;
}

export function newTransactionId(): Buffer {
  return randomBytes(12);
}

export function encodeStun(message: StunMessage, options: StunEncodeOptions = {}): Buffer {
  const parts = [header(message), ...attributesOf(message)];
  let packet = Buffer.concat(parts);
  if (options.password !== undefined) {
    // The length covers MESSAGE-INTEGRITY itself but not what follows it (RFC 5389 §15.4).
    packet.writeUInt16BE(packet.length - HEADER + 24, 2);
    const mac = createHmac('sha1', options.password).update(packet).digest();
    packet = Buffer.concat([packet, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  if (options.fingerprint !== false) {
    packet.writeUInt16BE(packet.length - HEADER + 8, 2);
    const crc = (crc32(packet) ^ FINGERPRINT_XOR) >>> 0;
    packet = Buffer.concat([packet, attribute(ATTR.FINGERPRINT, uint32(crc))]);
  }
  packet.writeUInt16BE(packet.length - HEADER, 2);
  return packet;
}

function header(message: StunMessage): Buffer {
  const m = message.method;
  const type = (m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) | CLASS_BITS[message.class];
  const out = Buffer.alloc(HEADER);
  out.writeUInt16BE(type, 0);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  message.transactionId.copy(out, 8, 0, 12);
  return out;
}

function attributesOf(message: StunMessage): Buffer[] {
  const out: Buffer[] = [];
  if (message.username !== undefined) out.push(attribute(ATTR.USERNAME, Buffer.from(message.username)));
  if (message.errorCode) {
    out.push(attribute(ATTR.ERROR_CODE, encodeErrorCode(message.errorCode.code, message.errorCode.reason)));
  }
  if (message.xorMappedAddress) {
    const value = encodeXorAddress(message.xorMappedAddress, message.transactionId);
    if (value) out.push(attribute(ATTR.XOR_MAPPED_ADDRESS, value));
  }
  if (message.priority !== undefined) out.push(attribute(ATTR.PRIORITY, uint32(message.priority)));
  if (message.useCandidate) out.push(attribute(ATTR.USE_CANDIDATE, Buffer.alloc(0)));
  if (message.iceControlling !== undefined) {
    out.push(attribute(ATTR.ICE_CONTROLLING, uint64(message.iceControlling)));
  }
  if (message.iceControlled !== undefined)
    out.push(attribute(ATTR.ICE_CONTROLLED, uint64(message.iceControlled)));
  return out;
}

/** Decodes one datagram; anything malformed (a short read, a bad length, a bad attribute) gives null. */
export function decodeStun(data: Buffer): DecodedStun | null {
  try {
    return decodeOrNull(data);
  } catch {
    // Buffer reads past the end throw; a datagram from the network must never reach the caller as one.
    return null;
  }
}

function decodeOrNull(data: Buffer): DecodedStun | null {
  if (!isStunPacket(data)) return null;
  const type = data.readUInt16BE(0);
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0 || length !== data.length - HEADER) return null;
  const klass = (['request', 'indication', 'success', 'error'] as const)[
    ((type >> 4) & 1) | ((type >> 7) & 2)
  ];
  if (!klass) return null;
  const method = (type & 0x000f) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0f80);
  const transactionId = Buffer.from(data.subarray(8, HEADER));
  const message: DecodedStun = {
    class: klass,
    method,
    transactionId,
    integrityOffset: null,
    fingerprintOffset: null,
  };
  let offset = HEADER;
  while (offset < data.length) {
    if (message.fingerprintOffset !== null) return null; // FINGERPRINT must be last (§15.5).
    const attrType = data.readUInt16BE(offset);
    const size = data.readUInt16BE(offset + 2);
    const end = offset + 4 + size;
    if (end > data.length) return null;
    const value = data.subarray(offset + 4, end);
    if (attrType === ATTR.FINGERPRINT) {
      if (size !== 4) return null;
      message.fingerprintOffset = offset;
    } else if (message.integrityOffset !== null) {
      // Whatever follows MESSAGE-INTEGRITY, other than FINGERPRINT, is ignored (§15.4).
    } else if (attrType === ATTR.MESSAGE_INTEGRITY) {
      if (size !== 20) return null;
      message.integrityOffset = offset;
    } else if (!readAttribute(message, attrType, value)) {
      return null;
    }
    offset += 4 + Math.ceil(size / 4) * 4;
  }
  return offset === data.length ? message : null;
}

/** Fills in one attribute (the first of a kind wins, §15); false if its value is malformed. */
function readAttribute(message: StunMessage, type: number, value: Buffer): boolean {
  switch (type) {
    case ATTR.USERNAME:
      if (value.length > 513) return false;
      message.username ??= value.toString('utf8');
      return true;
    case ATTR.XOR_MAPPED_ADDRESS: {
      const endpoint = decodeXorAddress(value, message.transactionId);
      if (!endpoint) return false;
      message.xorMappedAddress ??= endpoint;
      return true;
    }
    case ATTR.ERROR_CODE: {
      const error = decodeErrorCode(value);
      if (!error) return false;
      message.errorCode ??= error;
      return true;
    }
    case ATTR.PRIORITY:
      if (value.length !== 4) return false;
      message.priority ??= value.readUInt32BE(0);
      return true;
    case ATTR.USE_CANDIDATE:
      message.useCandidate = true;
      return true;
    case ATTR.ICE_CONTROLLING:
      if (value.length !== 8) return false;
      message.iceControlling ??= value.readBigUInt64BE(0);
      return true;
    case ATTR.ICE_CONTROLLED:
      if (value.length !== 8) return false;
      message.iceControlled ??= value.readBigUInt64BE(0);
      return true;
    default:
      return true;
  }
}

/**
 * Checks MESSAGE-INTEGRITY: HMAC-SHA1 keyed with the password over everything before it, with
 * the header's length set as if the message ended right after it (RFC 5389 §15.4). ICE's
 * short-term passwords are ice-chars, which SASLprep leaves as they are.
 */
export function verifyIntegrity(message: DecodedStun, rawBytes: Buffer, password: string): boolean {
  const at = message.integrityOffset;
  if (at === null || rawBytes.length < at + 24) return false;
  const covered = Buffer.from(rawBytes.subarray(0, at));
  covered.writeUInt16BE(at - HEADER + 24, 2);
  const mac = createHmac('sha1', password).update(covered).digest();
  return timingSafeEqual(mac, rawBytes.subarray(at + 4, at + 24));
}

/** Checks FINGERPRINT: CRC-32 of everything before it, XOR 0x5354554e (RFC 5389 §15.5). */
export function hasValidFingerprint(message: DecodedStun, rawBytes: Buffer): boolean {
  const at = message.fingerprintOffset;
  if (at === null || rawBytes.length !== at + 8) return false;
  const expected = (crc32(rawBytes.subarray(0, at)) ^ FINGERPRINT_XOR) >>> 0;
  return rawBytes.readUInt32BE(at + 4) === expected;
}
