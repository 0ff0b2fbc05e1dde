import { randomBytes } from 'node:crypto';
import {
  type DigestAlgorithm,
  type DigestParams,
  digestAlgorithm,
  digestResponse,
  parseDigestList,
  quote,
} from '../digestHash.js';

/** A challenge the gateway can answer: a known algorithm, and qop=auth offered or no qop at all. */
export interface AnswerableChallenge {
  algorithm: DigestAlgorithm;
  realm: string;
  nonce: string;
  qop: 'auth' | undefined;
  opaque: string | undefined;
  stale: boolean;
}

/** The header a challenge response carries its challenges in, and the one the answer goes in. */
export function challengeHeaders(status: 401 | 407): { challenge: string; answer: string } {
  return status === 407
    ? { challenge: 'Proxy-Authenticate', answer: 'Proxy-Authorization' }
    : { challenge: 'WWW-Authenticate', answer: 'Authorization' };
}

function answerable(params: DigestParams): AnswerableChallenge | undefined {
  const algorithm = digestAlgorithm(params.algorithm);
  const { realm, nonce } = params;
  if (!algorithm || realm === undefined || !nonce) return undefined;
  const offered = params.qop?.split(',').map((q) => q.trim().toLowerCase());
  // auth-int alone would need a hash of the body; no trunk of ours asks for it.
  if (offered && !offered.includes('auth')) return undefined;
  return {
    algorithm,
    realm,
    nonce,
    qop: offered ? 'auth' : undefined,
    opaque: params.opaque,
    stale: params.stale?.toLowerCase() === 'true',
  };
}

const STRENGTH: Record<DigestAlgorithm, number> = { 'SHA-256': 2, MD5: 1 };

/**
 * The challenge to answer out of a header value that may hold several (RFC 7616 §3.7, RFC 8760 §2.4:
 * a server lists its preferred first, and the client takes the strongest it supports): SHA-256 over
 * MD5, the first of equals.
 */
export function chooseChallenge(header: string | undefined): AnswerableChallenge | undefined {
  let best: AnswerableChallenge | undefined;
  for (const params of parseDigestList(header)) {
    const challenge = answerable(params);
    if (challenge && (!best || STRENGTH[challenge.algorithm] > STRENGTH[best.algorithm])) best = challenge;
  }
  return best;
}

/** The Authorization / Proxy-Authorization value answering `challenge` for one request. */
export function digestAuthorization(
  challenge: AnswerableChallenge,
  request: { method: string; uri: string },
  credentials: { username: string; password: string },
  cnonce: string = randomBytes(12).toString('hex'),
): string {
  const nc = '00000001';
  const response = digestResponse({
    algorithm: challenge.algorithm,
    username: credentials.username,
    realm: challenge.realm,
    password: credentials.password,
    method: request.method,
    uri: request.uri,
    nonce: challenge.nonce,
    qop: challenge.qop,
    nc,
    cnonce,
  });
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${challenge.algorithm}`,
    ...(challenge.qop ? [`qop=auth`, `nc=${nc}`, `cnonce=${quote(cnonce)}`] : []),
    ...(challenge.opaque !== undefined ? [`opaque=${quote(challenge.opaque)}`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

/** srf's request and response as its `auth` callback receives them. */
interface SrfMessage {
  method?: string;
  status?: number;
  get(header: string): string | undefined;
}

/**
 * srf's `auth` option as a callback: srf calls it when a request it sent is challenged, and answers
 * the challenge itself (always MD5, its own digest client) only if we hand it the credentials.
 */
export type SrfAuth = (
  req: SrfMessage,
  res: SrfMessage,
  callback: (error: Error | null, username?: string, password?: string) => void,
) => void;

/**
 * The `auth` srf gets with an outgoing INVITE, and keeps in the dialog for its in-dialog requests
 * (BYE, re-INVITE). The INVITE that starts a call (no To tag) is declined, so srf passes its 401/407
 * up and UacInvite answers it (MD5 or SHA-256). An in-dialog request is left to srf only where srf's
 * MD5-only client gets it right: one MD5 challenge, with qop absent or exactly auth.
 */
export function srfAuthFor(credentials: { username: string; password: string }): SrfAuth {
  return (req, res, callback) => {
    const initialInvite = req.method === 'INVITE' && !/;\s*tag=/i.test(req.get('To') ?? '');
    const header = challengeHeaders(res.status === 407 ? 407 : 401).challenge;
    const challenges = parseDigestList(res.get(header));
    const only = challenges.length === 1 ? challenges[0] : undefined;
    const srfCanAnswer =
      only !== undefined &&
      digestAlgorithm(only.algorithm) === 'MD5' &&
      (only.qop === undefined || only.qop.toLowerCase() === 'auth');
    if (initialInvite || !srfCanAnswer) {
      callback(new Error(initialInvite ? 'answered by UacInvite' : 'a challenge srf cannot answer'));
      return;
    }
    callback(null, credentials.username, credentials.password);
  };
}
