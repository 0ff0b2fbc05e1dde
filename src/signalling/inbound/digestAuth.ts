import {
  type DigestAlgorithm,
  type DigestParams,
  digestAlgorithm,
  digestResponse,
  parseDigestList,
  quote,
  safeEqual,
} from '../digestHash.js';
import { NonceTable } from './nonceTable.js';
import { sameSipUri } from './sipUriMatch.js';

export { parseDigestHeader } from '../digestHash.js';

export interface DigestCredentials {
  realm: string;
  username: string;
  password: string;
  /** The algorithm challenged with and the only one accepted; default MD5. */
  algorithm?: DigestAlgorithm | undefined;
}

/** The request the credentials must answer: its method and Request-URI as on the request line. */
export interface DigestRequest {
  method: string;
  uri: string;
}

/**
 * - ok: the credentials answer a live nonce of ours for this very request; the use is recorded.
 * - missing: no credentials: challenge.
 * - stale: right password, but on a nonce that is expired or not ours (evicted, or issued before a
 *   restart): challenge again with stale=true, the peer retries without asking anyone.
 * - replayed: right password and nonce, but a nonce count already used (a captured header sent
 *   again, or a second use of a nonce without qop): challenge again, with stale=true.
 * - wrong-uri: the credentials answer another Request-URI (another number, another host): 403.
 * - invalid: wrong username, realm, password or algorithm, or credentials that do not parse: 403.
 */
export type DigestVerdict = 'ok' | 'missing' | 'stale' | 'replayed' | 'wrong-uri' | 'invalid';

export interface DigestAuthenticatorOptions {
  /** A nonce is honoured this long after it was issued; default 5 minutes. */
  nonceLifetimeMs?: number;
  /** Nonces remembered at most; past this the oldest are forgotten (stale if answered); default 10,000. */
  maxNonces?: number;
  now?: () => number;
}

const NC = /^[0-9a-f]{8}$/i;

/**
 * Digest authentication of inbound requests (RFC 3261 §22, RFC 7616, RFC 8760: MD5 or SHA-256,
 * qop=auth or none). Each nonce is random and remembered (NonceTable) with the highest nonce count
 * it was used with, so a captured Authorization header is good for one request only; the digest uri
 * must be the request's own Request-URI, so it is good for that request only. A nonce the table does
 * not know, answered with the right password, is stale: a peer that kept a nonce across our restart
 * (or past its eviction) gets a fresh challenge, not a refusal. The nonces live in memory only.
 */
export class DigestAuthenticator {
  private readonly nonces: NonceTable;
  private readonly now: () => number;

  constructor(options: DigestAuthenticatorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.nonces = new NonceTable({
      lifetimeMs: options.nonceLifetimeMs ?? 5 * 60_000,
      maxEntries: options.maxNonces ?? 10_000,
      now: this.now,
    });
  }

  /** Nonces remembered right now (bounded by maxNonces). */
  get nonceCount(): number {
    return this.nonces.size;
  }

  /** The value of a WWW-Authenticate header for a 401, with a new nonce. */
  challenge(credentials: Pick<DigestCredentials, 'realm' | 'algorithm'>, stale = false): string {
    const algorithm = credentials.algorithm ?? 'MD5';
    const nonce = this.nonces.issue();
    return `Digest realm=${quote(credentials.realm)}, nonce=${quote(nonce)}, algorithm=${algorithm}, qop="auth"${stale ? ', stale=true' : ''}`;
  }

  verify(header: string | undefined, request: DigestRequest, credentials: DigestCredentials): DigestVerdict {
    if (!header) return 'missing';
    const entries = parseDigestList(header);
    // Credentials for several realms may arrive (one per proxy on the way): ours is the one to judge.
    const fields = entries.find((e) => e.realm === credentials.realm) ?? entries[0];
    if (!fields) return 'invalid';
    const answer = this.answerOf(fields, credentials);
    if (!answer) return 'invalid';
    const expected = digestResponse({
      ...answer,
      username: credentials.username,
      realm: credentials.realm,
      password: credentials.password,
      method: request.method,
    });
    if (!safeEqual(answer.response, expected)) return 'invalid';
    if (!sameSipUri(answer.uri, request.uri)) return 'wrong-uri';
    const use = this.nonces.use(answer.nonce, answer.nc === undefined ? 1 : Number.parseInt(answer.nc, 16));
    return use === 'ok' ? 'ok' : use === 'replayed' ? 'replayed' : 'stale';
  }

  /** The parts of the credentials the response is computed from, if they are complete and ours. */
  private answerOf(fields: DigestParams, credentials: DigestCredentials) {
    const { nonce, response, uri, username, realm, qop, nc, cnonce } = fields;
    if (!nonce || !response || !uri || username !== credentials.username || realm !== credentials.realm) {
      return undefined;
    }
    const algorithm = digestAlgorithm(fields.algorithm);
    if (algorithm !== (credentials.algorithm ?? 'MD5')) return undefined;
    if (qop === undefined) return { algorithm, nonce, uri, response: response.toLowerCase() };
    if (qop.toLowerCase() !== 'auth' || !nc || !NC.test(nc) || !cnonce) return undefined;
    return { algorithm, nonce, uri, qop: 'auth' as const, nc, cnonce, response: response.toLowerCase() };
  }
}
