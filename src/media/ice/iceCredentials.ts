import { randomBytes } from 'node:crypto';
import type { IceCredentials } from './iceTypes.js';

/** ice-char (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/"; 64 of them, so a byte's low 6 bits pick one evenly. */
const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function iceString(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += ICE_CHARS[byte & 63];
  return out;
}

/**
 * Fresh credentials for one ICE session. RFC 8839 asks for at least 4 ufrag and 22 pwd chars, and
 * at least 24 and 128 bits of randomness: 8 chars give 48 bits, 24 give 144.
 */
export function newIceCredentials(): IceCredentials {
  return { ufrag: iceString(8), pwd: iceString(24) };
}
