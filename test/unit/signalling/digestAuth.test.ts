import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sipSchema } from '../../../src/config/sipSchema.js';
import { digestResponse, parseDigestList } from '../../../src/signalling/digestHash.js';
import {
  DigestAuthenticator,
  type DigestCredentials,
  parseDigestHeader,
} from '../../../src/signalling/inbound/digestAuth.js';
import { sameSipUri } from '../../../src/signalling/inbound/sipUriMatch.js';

const URI = 'sip:+15550100@127.0.0.1:5060';
const INVITE = { method: 'INVITE', uri: URI };
const MD5_TRUNK: DigestCredentials = { realm: 'gateway', username: 'carrier', password: 'correct-horse' };
const SHA_TRUNK: DigestCredentials = { ...MD5_TRUNK, algorithm: 'SHA-256' };

/** Computed here, independently of src/: H = MD5 or SHA-256 hex. */
const H = (algorithm: string, text: string) =>
  createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');

interface AnswerOptions {
  password?: string;
  method?: string;
  uri?: string;
  qop?: boolean;
  nc?: string;
  cnonce?: string;
  algorithm?: 'MD5' | 'SHA-256';
  username?: string;
}

/** What a peer sends back for `challenge`. */
function answer(challenge: string, o: AnswerOptions = {}): string {
  const fields = parseDigestHeader(challenge) ?? {};
  const algorithm = o.algorithm ?? fields.algorithm ?? 'MD5';
  const username = o.username ?? 'carrier';
  const uri = o.uri ?? URI;
  const nc = o.nc ?? '00000001';
  const cnonce = o.cnonce ?? 'abc';
  const ha1 = H(algorithm, `${username}:${fields.realm}:${o.password ?? 'correct-horse'}`);
  const ha2 = H(algorithm, `${o.method ?? 'INVITE'}:${uri}`);
  const qop = o.qop ?? true;
  const response = qop
    ? H(algorithm, `${ha1}:${fields.nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : H(algorithm, `${ha1}:${fields.nonce}:${ha2}`);
  const tail = qop ? `, qop=auth, nc=${nc}, cnonce="${cnonce}"` : '';
  return `Digest username="${username}", realm="${fields.realm}", nonce="${fields.nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}${tail}`;
}

describe('digest hashes', () => {
  // RFC 7616 §3.9.1: the same request answered with MD5 and with SHA-256.
  const rfc = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  it('computes the RFC 7616 example responses', () => {
    expect(digestResponse({ ...rfc, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    expect(digestResponse({ ...rfc, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('reads several challenges out of one comma-joined header, other schemes skipped', () => {
    const list = parseDigestList(
      'Digest realm="a, b", nonce="n1", algorithm=SHA-256, qop="auth,auth-int", Basic realm="x", Digest realm="a", nonce="n\\"2", algorithm=MD5',
    );
    expect(list).toEqual([
      { realm: 'a, b', nonce: 'n1', algorithm: 'SHA-256', qop: 'auth,auth-int' },
      { realm: 'a', nonce: 'n"2', algorithm: 'MD5' },
    ]);
  });
});

describe('sameSipUri', () => {
  it.each([
    [URI, URI, true],
    ['SIP:+15550100@GW.example.com', 'sip:+15550100@gw.example.com', true],
    ['sip:%2B15550100@127.0.0.1:5060', URI, true],
    ['sip:+15550100@127.0.0.1:5060;transport=UDP', 'sip:+15550100@127.0.0.1:5060;transport=udp', true],
    ['sip:+15550100@127.0.0.1:5060;x=1', URI, true],
    ['sip:+15550100@127.0.0.1:5060;transport=udp', URI, false],
    ['sip:+15550101@127.0.0.1:5060', URI, false],
    ['sip:+15550100@127.0.0.1', URI, false],
    ['sip:127.0.0.1:5060', URI, false],
    ['sips:+15550100@127.0.0.1:5060', URI, false],
    ['sip:Alice@gw', 'sip:alice@gw', false],
    ['sip:+15550100@127.0.0.1:5060?Subject=x', URI, false],
    ['tel:+15550100', 'tel:+15550100', true],
    ['tel:+15550100', URI, false],
  ])('%s ~ %s: %s', (a, b, same) => {
    expect(sameSipUri(a, b)).toBe(same);
    expect(sameSipUri(b, a)).toBe(same);
  });
});

describe('DigestAuthenticator', () => {
  it('accepts the right password with MD5, with or without qop', () => {
    const auth = new DigestAuthenticator();
    const challenge = auth.challenge(MD5_TRUNK);
    expect(challenge).toMatch(/^Digest realm="gateway", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    expect(auth.verify(answer(challenge), INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(answer(auth.challenge(MD5_TRUNK), { qop: false }), INVITE, MD5_TRUNK)).toBe('ok');
  });

  it('challenges with SHA-256 where the trunk says so and accepts only SHA-256 answers', () => {
    const auth = new DigestAuthenticator();
    const challenge = auth.challenge(SHA_TRUNK);
    expect(challenge).toContain('algorithm=SHA-256');
    const sha = answer(challenge);
    expect(/response="([0-9a-f]+)"/.exec(sha)?.[1]).toHaveLength(64);
    expect(auth.verify(sha, INVITE, SHA_TRUNK)).toBe('ok');
    // The same nonce answered with MD5: not what was asked for.
    expect(auth.verify(answer(auth.challenge(SHA_TRUNK), { algorithm: 'MD5' }), INVITE, SHA_TRUNK)).toBe(
      'invalid',
    );
    // And an MD5 trunk takes no SHA-256 answer.
    expect(auth.verify(answer(auth.challenge(MD5_TRUNK), { algorithm: 'SHA-256' }), INVITE, MD5_TRUNK)).toBe(
      'invalid',
    );
    expect(auth.verify(answer(auth.challenge(SHA_TRUNK), { password: 'wrong' }), INVITE, SHA_TRUNK)).toBe(
      'invalid',
    );
  });

  it('refuses a wrong password, user, realm or method, and says missing without a header', () => {
    const auth = new DigestAuthenticator();
    const challenge = auth.challenge(MD5_TRUNK);
    expect(auth.verify(answer(challenge, { password: 'wrong' }), INVITE, MD5_TRUNK)).toBe('invalid');
    expect(auth.verify(answer(challenge, { username: 'other' }), INVITE, MD5_TRUNK)).toBe('invalid');
    expect(auth.verify(answer(challenge, { method: 'BYE' }), INVITE, MD5_TRUNK)).toBe('invalid');
    expect(auth.verify(answer(challenge), INVITE, { ...MD5_TRUNK, realm: 'elsewhere' })).toBe('invalid');
    expect(auth.verify('Digest username="carrier"', INVITE, MD5_TRUNK)).toBe('invalid');
    expect(auth.verify('Basic Y2Fycmllcjpwdw==', INVITE, MD5_TRUNK)).toBe('invalid');
    expect(auth.verify(undefined, INVITE, MD5_TRUNK)).toBe('missing');
    // The failures did not use the nonce up.
    expect(auth.verify(answer(challenge), INVITE, MD5_TRUNK)).toBe('ok');
  });

  it('takes a captured header once: the same header again is a replay, not a call', () => {
    const auth = new DigestAuthenticator();
    const header = answer(auth.challenge(MD5_TRUNK));
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('replayed');
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('replayed');
  });

  it('lets a nonce be reused with a growing nonce count, and only so', () => {
    const auth = new DigestAuthenticator();
    const challenge = auth.challenge(MD5_TRUNK);
    expect(auth.verify(answer(challenge, { nc: '00000001' }), INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(answer(challenge, { nc: '00000003', cnonce: 'x' }), INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(answer(challenge, { nc: '00000002', cnonce: 'y' }), INVITE, MD5_TRUNK)).toBe(
      'replayed',
    );
    expect(auth.verify(answer(challenge, { nc: '00000003', cnonce: 'z' }), INVITE, MD5_TRUNK)).toBe(
      'replayed',
    );
    expect(auth.verify(answer(challenge, { nc: '0000000a', cnonce: 'w' }), INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(answer(challenge, { nc: '1' }), INVITE, MD5_TRUNK)).toBe('invalid');
  });

  it('uses a nonce without qop (RFC 2069 style) once', () => {
    const auth = new DigestAuthenticator();
    const header = answer(auth.challenge(MD5_TRUNK), { qop: false });
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('replayed');
  });

  it('binds the answer to the Request-URI: credentials for another number or host are refused', () => {
    const auth = new DigestAuthenticator();
    const header = answer(auth.challenge(MD5_TRUNK));
    expect(auth.verify(header, { method: 'INVITE', uri: 'sip:+15550199@127.0.0.1:5060' }, MD5_TRUNK)).toBe(
      'wrong-uri',
    );
    expect(auth.verify(header, { method: 'INVITE', uri: 'sip:+15550100@127.0.0.2:5060' }, MD5_TRUNK)).toBe(
      'wrong-uri',
    );
    // The refusals did not use the nonce: the request it was made for still gets through.
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('ok');
    // An equivalent spelling of the same URI is the same request.
    const escaped = answer(auth.challenge(MD5_TRUNK), { uri: 'sip:%2B15550100@127.0.0.1:5060' });
    expect(auth.verify(escaped, INVITE, MD5_TRUNK)).toBe('ok');
    // sipp's default digest uri (sip:host:port, no user part) is not the Request-URI.
    const sippDefault = answer(auth.challenge(MD5_TRUNK), { uri: 'sip:127.0.0.1:5060' });
    expect(auth.verify(sippDefault, INVITE, MD5_TRUNK)).toBe('wrong-uri');
  });

  it('calls a nonce from before a restart stale (a fresh 401), but a wrong password on it invalid', () => {
    const before = new DigestAuthenticator();
    const challenge = before.challenge(MD5_TRUNK);
    const after = new DigestAuthenticator();
    expect(after.verify(answer(challenge), INVITE, MD5_TRUNK)).toBe('stale');
    expect(after.verify(answer(challenge, { password: 'wrong' }), INVITE, MD5_TRUNK)).toBe('invalid');
    // A nonce of a format we never issued, answered with the right password, is not ours either.
    const foreign = 'Digest realm="gateway", nonce="1a2b3c.legacy-signature", algorithm=MD5';
    expect(after.verify(answer(foreign), INVITE, MD5_TRUNK)).toBe('stale');
  });

  it('calls an expired nonce stale and forgets it', () => {
    let now = 1_000_000;
    const auth = new DigestAuthenticator({ now: () => now });
    const header = answer(auth.challenge(MD5_TRUNK));
    expect(auth.nonceCount).toBe(1);
    now += 5 * 60_000 + 1;
    expect(auth.verify(header, INVITE, MD5_TRUNK)).toBe('stale');
    expect(auth.nonceCount).toBe(0);
    expect(auth.challenge(MD5_TRUNK, true)).toMatch(/, stale=true$/);
  });

  it('keeps at most maxNonces, forgetting the oldest, whose answers are then stale', () => {
    let now = 0;
    const auth = new DigestAuthenticator({ now: () => now, maxNonces: 3 });
    const challenges = Array.from({ length: 5 }, () => {
      now += 1;
      return auth.challenge(MD5_TRUNK);
    });
    expect(auth.nonceCount).toBe(3);
    expect(auth.verify(answer(challenges[0] ?? ''), INVITE, MD5_TRUNK)).toBe('stale');
    expect(auth.verify(answer(challenges[1] ?? ''), INVITE, MD5_TRUNK)).toBe('stale');
    expect(auth.verify(answer(challenges[2] ?? ''), INVITE, MD5_TRUNK)).toBe('ok');
    expect(auth.verify(answer(challenges[4] ?? ''), INVITE, MD5_TRUNK)).toBe('ok');
    for (let i = 0; i < 1000; i++) auth.challenge(MD5_TRUNK);
    expect(auth.nonceCount).toBe(3);
  });

  it('judges the credentials for its own realm when a request carries several', () => {
    const auth = new DigestAuthenticator();
    const ours = answer(auth.challenge(MD5_TRUNK));
    const theirs = 'Digest username="x", realm="upstream", nonce="n", uri="sip:a@b", response="00"';
    expect(auth.verify(`${theirs}, ${ours}`, INVITE, MD5_TRUNK)).toBe('ok');
  });
});

describe('sip.trunks[].inboundAuth.algorithm', () => {
  const parse = (inboundAuth: object) =>
    sipSchema.safeParse({
      engine: 'embedded',
      drachtio: { host: '127.0.0.1', port: 9022, secret: 'cymru' },
      contacts: ['sip:127.0.0.1:5060'],
      trunks: [{ name: 'carrier', kind: 'pstn', sourceAddresses: ['127.0.0.1'], inboundAuth }],
      numbers: [],
      ringTimeoutSeconds: 30,
    });

  it('is MD5 unless set, SHA-256 when set, and nothing else', () => {
    expect(parse(MD5_TRUNK).data?.trunks[0]?.inboundAuth?.algorithm).toBe('MD5');
    expect(parse({ ...MD5_TRUNK, algorithm: 'SHA-256' }).data?.trunks[0]?.inboundAuth?.algorithm).toBe(
      'SHA-256',
    );
    const wrong = parse({ ...MD5_TRUNK, algorithm: 'SHA-512' });
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]?.path).toEqual(['trunks', 0, 'inboundAuth', 'algorithm']);
  });
});
