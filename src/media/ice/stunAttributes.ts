import type { IceEndpoint } from './iceTypes.js';
import { addressBytes, formatAddress } from './ipAddress.js';

/** Attribute types STUN (RFC 5389 §18.2) and ICE (RFC 8445 §16.1) define and this agent reads or writes. */
export const ATTR = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  XOR_MAPPED_ADDRESS: 0x0020,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

export const MAGIC_COOKIE = 0x2112a442;

/** One attribute on the wire: type, length, value, padded to a multiple of 4 (RFC 5389 §15). */
export function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** XOR-MAPPED-ADDRESS (RFC 5389 §15.2): the port XORs the cookie's top half, the address the cookie (and, for IPv6, the transaction id). */
export function encodeXorAddress(endpoint: IceEndpoint, transactionId: Buffer): Buffer | null {
  const bytes = addressBytes(endpoint.address);
  if (!bytes) return null;
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt8(bytes.length === 4 ? 0x01 : 0x02, 1);
  out.writeUInt16BE(endpoint.port ^ (MAGIC_COOKIE >>> 16), 2);
  xorInto(bytes, transactionId).copy(out, 4);
  return out;
}

export function decodeXorAddress(value: Buffer, transactionId: Buffer): IceEndpoint | null {
  const family = value.length >= 4 ? value.readUInt8(1) : 0;
  const size = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (size === 0 || value.length !== 4 + size) return null;
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  return { address: formatAddress(xorInto(value.subarray(4), transactionId)), port };
}

function xorInto(address: Buffer, transactionId: Buffer): Buffer {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(MAGIC_COOKIE, 0);
  transactionId.copy(key, 4);
  return Buffer.from(address.map((byte, i) => byte ^ (key[i] ?? 0)));
}

/** ERROR-CODE (RFC 5389 §15.6): the hundreds in a 3-bit class, the rest in a byte, then a UTF-8 reason. */
export function encodeErrorCode(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const out = Buffer.alloc(4 + text.length);
  out.writeUInt8(Math.floor(code / 100) & 0x07, 2);
  out.writeUInt8(code % 100, 3);
  text.copy(out, 4);
  return out;
}

export function decodeErrorCode(value: Buffer): { code: number; reason: string } | null {
  if (value.length < 4) return null;
  const code = (value.readUInt8(2) & 0x07) * 100 + value.readUInt8(3);
  return { code, reason: value.subarray(4).toString('utf8') };
}

export function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0, 0);
  return out;
}

export function uint64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt.asUintN(64, value), 0);
  return out;
}
