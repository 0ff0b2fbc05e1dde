import { randomBytes } from 'node:crypto';

export interface NonceTableOptions {
  /** A nonce is honoured this long after it was issued. */
  lifetimeMs: number;
  /** At most this many nonces are remembered; issuing one more forgets the oldest. */
  maxEntries: number;
  now: () => number;
}

/**
 * What a nonce has answered so far: 'ok' records the use; 'unknown' is a nonce this table never
 * issued, has forgotten (evicted, expired) or that a previous process issued; 'replayed' is a nonce
 * count not above the highest one seen for the nonce.
 */
export type NonceUse = 'ok' | 'unknown' | 'replayed';

/**
 * The nonces issued in challenges, with the highest nonce count each has been used with, so a
 * captured Authorization header works once and no more (RFC 7616 §3.3, §5.4: nc grows per nonce).
 * Memory is bounded: entries go once their lifetime is over and, past `maxEntries`, oldest first.
 * A Map iterates in insertion order, which is issue order, so both happen at its front.
 */
export class NonceTable {
  private readonly entries = new Map<string, { issuedAt: number; lastNc: number }>();

  constructor(private readonly options: NonceTableOptions) {}

  get size(): number {
    this.expire();
    return this.entries.size;
  }

  issue(): string {
    this.expire();
    const nonce = randomBytes(18).toString('base64url');
    this.entries.set(nonce, { issuedAt: this.options.now(), lastNc: 0 });
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    return nonce;
  }

  /** Records that `nonce` answered a request with nonce count `nc` (1 for credentials without qop). */
  use(nonce: string, nc: number): NonceUse {
    this.expire();
    const entry = this.entries.get(nonce);
    if (!entry) return 'unknown';
    if (nc <= entry.lastNc) return 'replayed';
    entry.lastNc = nc;
    return 'ok';
  }

  private expire(): void {
    const oldestValid = this.options.now() - this.options.lifetimeMs;
    for (const [nonce, entry] of this.entries) {
      if (entry.issuedAt >= oldestValid) break;
      this.entries.delete(nonce);
    }
  }
}
