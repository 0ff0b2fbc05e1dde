import { randomBytes } from 'node:crypto';
import { type SrtpSuite, suiteNamed } from './srtpSuites.js';

/** One a=crypto line as sdp-transform reads it (`a=crypto:<tag> <suite> <key-params> [<session-params>]`). */
export interface CryptoLine {
  id: number;
  suite: string;
  config: string;
  sessionConfig?: string;
}

/** A crypto line we can use: a suite we have and one usable inline key. */
export interface UsableCrypto {
  tag: number;
  suite: SrtpSuite;
  /** Master key then master salt. */
  key: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the crypto line's key: `inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>]`.
 * Returns null for what we cannot use (an unknown suite, several keys, an MKI, session
 * parameters such as UNENCRYPTED_SRTP, a key of the wrong length), so the next line is tried.
 */
export function usableCrypto(line: CryptoLine): UsableCrypto | null {
  const suite = suiteNamed(line.suite);
  if (!suite || !Number.isInteger(line.id) || line.id < 0 || line.id > 999_999_999) return null;
  // Session parameters change the transform (unencrypted, unauthenticated, KDR): not supported.
  if (line.sessionConfig?.trim()) return null;
  const keyParams = line.config.trim().split(';');
  if (keyParams.length !== 1) return null;
  const match = /^inline:([^|]+)(\|[^|]+)?(\|[^|]+)?$/.exec(keyParams[0] ?? '');
  if (!match?.[1] || !BASE64.test(match[1])) return null;
  // An MKI (n:len) would have to prefix every packet's tag; we send none, so we use none.
  if (match[3] !== undefined || match[2]?.includes(':')) return null;
  const key = Buffer.from(match[1], 'base64');
  if (key.length !== suite.keyBytes + suite.saltBytes) return null;
  return { tag: line.id, suite, key };
}

/** A fresh master key and salt for the suite, from the system CSPRNG. */
export function newMasterKey(suite: SrtpSuite): Buffer {
  return randomBytes(suite.keyBytes + suite.saltBytes);
}

/** Our a=crypto line for a suite and key. */
export function cryptoLine(tag: number, suite: SrtpSuite, key: Buffer): CryptoLine {
  return { id: tag, suite: suite.name, config: `inline:${key.toString('base64')}` };
}
