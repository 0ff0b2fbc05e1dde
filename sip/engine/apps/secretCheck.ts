import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A constant-time check of the shared secret. Comparing digests lets secrets of different lengths be
 * compared without leaking the length through timing.
 */
export function secretVerifier(secret: string): (candidate: string) => boolean {
  const expected = digest(secret);
  return (candidate) => timingSafeEqual(expected, digest(candidate));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
