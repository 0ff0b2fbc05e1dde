import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface DigestCredentials {
  realm: string;
  username: string;
  password: string;
}

export type DigestVerdict = 'ok' | 'missing' | 'stale' | 'invalid';

/** A nonce is honoured this long after it was issued. */
const NONCE_LIFETIME_MS = 5 * 60_000;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** `Digest a="b", c=d` → { a: 'b', c: 'd' } (keys lower-cased). */
export function parseDigestHeader(header: string): Record<string, string> | undefined {
  const match = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!match?.[1]) return undefined;
  const fields: Record<string, string> = {};
  const pattern = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const part of match[1].matchAll(pattern)) {
    if (part[1]) fields[part[1].toLowerCase()] = part[2] ?? part[3] ?? '';
  }
  return fields;
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * RFC 2617/3261 digest authentication of inbound requests (MD5, qop=auth or none). Nonces are
 * stateless: a timestamp signed with a key only this process knows, so a challenge needs no table
 * and a forged or expired nonce is recognised.
 */
export class DigestAuthenticator {
  constructor(
    private readonly key: Buffer = randomBytes(32),
    private readonly now: () => number = Date.now,
  ) {}

  /** The value of a WWW-Authenticate header for a 401. */
  challenge(realm: string, stale = false): string {
    const stamp = this.now().toString(36);
    const nonce = `${stamp}.${this.sign(stamp)}`;
    return `Digest realm="${realm}", nonce="${nonce}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  verify(header: string | undefined, method: string, credentials: DigestCredentials): DigestVerdict {
    if (!header) return 'missing';
    const fields = parseDigestHeader(header);
    if (!fields?.nonce || !fields.response || !fields.uri || !fields.username) return 'invalid';
    if (fields.username !== credentials.username || fields.realm !== credentials.realm) return 'invalid';
    if (fields.algorithm && fields.algorithm.toUpperCase() !== 'MD5') return 'invalid';
    const [stamp = '', signature = ''] = fields.nonce.split('.');
    if (!safeEqual(signature, this.sign(stamp))) return 'invalid';
    const ha1 = md5(`${credentials.username}:${credentials.realm}:${credentials.password}`);
    const ha2 = md5(`${method}:${fields.uri}`);
    const expected =
      fields.qop === 'auth'
        ? md5(`${ha1}:${fields.nonce}:${fields.nc ?? ''}:${fields.cnonce ?? ''}:auth:${ha2}`)
        : md5(`${ha1}:${fields.nonce}:${ha2}`);
    if (!safeEqual(fields.response.toLowerCase(), expected)) return 'invalid';
    // Right password on an old nonce: ask again with stale=true so the peer retries silently.
    return this.now() - Number.parseInt(stamp, 36) > NONCE_LIFETIME_MS ? 'stale' : 'ok';
  }

  private sign(stamp: string): string {
    return createHmac('sha256', this.key).update(stamp).digest('base64url').slice(0, 22);
  }
}
