import { createHash } from 'node:crypto';
import type { DtlsFingerprint, FingerprintAlgorithm } from './dtlsTypes.js';

const ALGORITHMS: readonly FingerprintAlgorithm[] = ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'];
const HEX_PAIRS = /^[0-9A-F]{2}(:[0-9A-F]{2})+$/;

/** The fingerprint of a DER certificate under one hash function. */
export function fingerprintOf(der: Buffer, algorithm: FingerprintAlgorithm): DtlsFingerprint {
  const digest = createHash(algorithm.replace('-', '')).update(der).digest('hex').toUpperCase();
  return { algorithm, value: digest.match(/../g)?.join(':') ?? '' };
}

/**
 * Reads the value of an a=fingerprint line (`sha-256 AB:CD:…`). Hash names and hex digits are
 * case-insensitive (RFC 8122 §5); a hash we cannot compute, or hex of the wrong length for it,
 * is null.
 */
export function parseFingerprint(value: string): DtlsFingerprint | null {
  const [name, hex, extra] = value.trim().split(/\s+/);
  if (!name || !hex || extra !== undefined) return null;
  const algorithm = ALGORITHMS.find((candidate) => candidate === name.toLowerCase());
  const upper = hex.toUpperCase();
  if (!algorithm || !HEX_PAIRS.test(upper)) return null;
  const expectedBytes = createHash(algorithm.replace('-', '')).digest().length;
  if (upper.split(':').length !== expectedBytes) return null;
  return { algorithm, value: upper };
}

export function writeFingerprint(fingerprint: DtlsFingerprint): string {
  return `${fingerprint.algorithm} ${fingerprint.value}`;
}

/** The certificate the peer presented is one its SDP named (any listed hash may match). */
export function matchesFingerprint(der: Buffer, expected: readonly DtlsFingerprint[]): boolean {
  return expected.some(
    (fingerprint) => fingerprintOf(der, fingerprint.algorithm).value === fingerprint.value,
  );
}
