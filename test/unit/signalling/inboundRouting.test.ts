import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestAuthenticator, parseDigestHeader } from '../../../src/signalling/inbound/digestAuth.js';
import { calledNumber, NumberRouter } from '../../../src/signalling/inbound/numberRouter.js';
import { TrunkMatcher } from '../../../src/signalling/inbound/trunkMatcher.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe('TrunkMatcher', () => {
  const matcher = new TrunkMatcher([
    {
      name: 'a',
      kind: 'pstn',
      sourceAddresses: ['203.0.113.0/24', '198.51.100.7'],
      inboundAuth: null,
      outbound: null,
    },
    { name: 'b', kind: 'whatsapp', sourceAddresses: ['2001:db8::/32'], inboundAuth: null, outbound: null },
  ]);
  it.each([
    ['203.0.113.200', 'a'],
    ['198.51.100.7', 'a'],
    ['2001:db8::1', 'b'],
    ['198.51.100.8', undefined],
    ['203.0.114.1', undefined],
    ['2001:db9::1', undefined],
  ])('%s → %s', (address, trunk) => {
    expect(matcher.match(address)?.name).toBe(trunk);
  });
});

describe('calledNumber', () => {
  it.each([
    ['sip:+15550100@gw.example.com', '+15550100'],
    ['sip:15550100@10.0.0.1:5060;transport=udp', '+15550100'],
    ['sips:+44-20-7946-0000@gw.example.com', '+442079460000'],
    ['tel:+15550100;phone-context=x', '+15550100'],
    ['sip:%2B15550100@gw', '+15550100'],
    ['sip:alice@gw.example.com', undefined],
    ['sip:123@gw', undefined],
    ['sip:gw.example.com', undefined],
  ])('%s → %s', (uri, number) => {
    expect(calledNumber(uri)).toBe(number);
  });

  it('routes numbers to apps', () => {
    const router = new NumberRouter([{ number: '+15550100', appId: 'app_x' }]);
    expect(router.appFor('+15550100')).toBe('app_x');
    expect(router.appFor('+15550101')).toBeUndefined();
  });
});

describe('DigestAuthenticator', () => {
  const credentials = { realm: 'gateway', username: 'carrier', password: 'correct-horse' };

  function answer(challenge: string, password: string, method = 'INVITE', qop = true): string {
    const fields = parseDigestHeader(challenge) ?? {};
    const uri = 'sip:+15550100@127.0.0.1';
    const ha1 = md5(`carrier:${fields.realm}:${password}`);
    const ha2 = md5(`${method}:${uri}`);
    const response = qop
      ? md5(`${ha1}:${fields.nonce}:00000001:abc:auth:${ha2}`)
      : md5(`${ha1}:${fields.nonce}:${ha2}`);
    const tail = qop ? ', qop=auth, nc=00000001, cnonce="abc"' : '';
    return `Digest username="carrier", realm="${fields.realm}", nonce="${fields.nonce}", uri="${uri}", response="${response}", algorithm=MD5${tail}`;
  }

  it('accepts the right password, with or without qop', () => {
    const auth = new DigestAuthenticator();
    expect(auth.verify(answer(auth.challenge('gateway'), 'correct-horse'), 'INVITE', credentials)).toBe('ok');
    expect(
      auth.verify(answer(auth.challenge('gateway'), 'correct-horse', 'INVITE', false), 'INVITE', credentials),
    ).toBe('ok');
  });

  it('refuses a wrong password, another method, a forged nonce and no header', () => {
    const auth = new DigestAuthenticator();
    const challenge = auth.challenge('gateway');
    expect(auth.verify(answer(challenge, 'wrong'), 'INVITE', credentials)).toBe('invalid');
    expect(auth.verify(answer(challenge, 'correct-horse', 'BYE'), 'INVITE', credentials)).toBe('invalid');
    const forged = new DigestAuthenticator().challenge('gateway');
    expect(auth.verify(answer(forged, 'correct-horse'), 'INVITE', credentials)).toBe('invalid');
    expect(auth.verify(undefined, 'INVITE', credentials)).toBe('missing');
  });

  it('calls an old nonce stale, so the peer can retry without asking its user', () => {
    let now = 1_000_000;
    const auth = new DigestAuthenticator(undefined, () => now);
    const header = answer(auth.challenge('gateway'), 'correct-horse');
    now += 6 * 60_000;
    expect(auth.verify(header, 'INVITE', credentials)).toBe('stale');
    expect(auth.challenge('gateway', true)).toContain('stale=true');
  });
});
