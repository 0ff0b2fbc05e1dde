import { createHash, timingSafeEqual } from 'node:crypto';

/** The digest algorithms the gateway computes (RFC 7616 §3.2; RFC 8760 for SIP). */
export const DIGEST_ALGORITHMS = ['MD5', 'SHA-256'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

/** `md5` → 'MD5', `sha-256` → 'SHA-256'; absent means MD5 (RFC 2617); anything else (the -sess variants, SHA-512-256, AKA) is undefined. */
export function digestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const upper = value.toUpperCase();
  return (DIGEST_ALGORITHMS as readonly string[]).includes(upper) ? (upper as DigestAlgorithm) : undefined;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  /** The digest `uri` (the Request-URI of the request answered). */
  uri: string;
  nonce: string;
  /** 'auth' with nc and cnonce (RFC 7616), or absent (RFC 2069 style). */
  qop?: 'auth' | undefined;
  nc?: string | undefined;
  cnonce?: string | undefined;
}

/** The `response` value: KD(H(A1), nonce[:nc:cnonce:qop]:H(A2)), lower-case hex. */
export function digestResponse(input: DigestInput): string {
  const ha1 = hash(input.algorithm, `${input.username}:${input.realm}:${input.password}`);
  const ha2 = hash(input.algorithm, `${input.method}:${input.uri}`);
  const middle =
    input.qop === 'auth' ? `${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:auth` : input.nonce;
  return hash(input.algorithm, `${ha1}:${middle}:${ha2}`);
}

/** Equal strings in time that does not depend on where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The parameters of one Digest challenge or credentials, names lower-cased, quoted values unescaped. */
export type DigestParams = Record<string, string>;

const PARAM = /\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
const SCHEME = /\s*([A-Za-z][\w-]*)\s+(?=[A-Za-z][\w-]*\s*=)/y;

/**
 * Every Digest challenge (WWW-/Proxy-Authenticate) or credentials (Authorization) in a header
 * value. srf joins repeated headers with commas, so one value may hold several:
 * `Digest realm="a", algorithm=SHA-256, Digest realm="a", algorithm=MD5` → two entries. Challenges
 * of other schemes are skipped; a value that does not parse ends the list where it stops parsing.
 */
export function parseDigestList(header: string | undefined): DigestParams[] {
  const found: DigestParams[] = [];
  if (!header) return found;
  let current: DigestParams | undefined;
  let position = 0;
  while (position < header.length) {
    SCHEME.lastIndex = position;
    const scheme = SCHEME.exec(header);
    if (scheme) {
      current = scheme[1]?.toLowerCase() === 'digest' ? {} : undefined;
      if (current) found.push(current);
      position = SCHEME.lastIndex;
      continue;
    }
    PARAM.lastIndex = position;
    const param = PARAM.exec(header);
    if (!param?.[1] || PARAM.lastIndex === position) break;
    if (current) {
      const quoted = param[2];
      current[param[1].toLowerCase()] =
        quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (param[3] ?? '');
    }
    position = PARAM.lastIndex;
  }
  return found;
}

/** The first Digest entry of a header value (see parseDigestList). */
export function parseDigestHeader(header: string | undefined): DigestParams | undefined {
  return parseDigestList(header)[0];
}

/** A quoted-string for a header parameter. */
export function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
