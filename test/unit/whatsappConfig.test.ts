import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { graphNumberSchema } from '../../src/config/whatsappGraphSchema.js';
import { OutboundTrunks } from '../../src/signalling/outbound/outboundTrunks.js';
import { TrunkMediaPolicies } from '../../src/signalling/trunkMedia.js';
import { whatsappAttributes, whatsappInfoOf } from '../../src/signalling/whatsappHeaders.js';
import { WhatsAppNumbers } from '../../src/signalling/whatsappNumbers.js';
import { configErrorOf, withSip } from './configFiles.js';

/** WhatsApp business numbers on Meta's SIP mode (sip.whatsapp), their edge trunk and sip.tls. */
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';

const META = {
  name: 'meta',
  kind: 'whatsapp',
  sourceAddresses: ['157.240.0.0/16'],
  outbound: { host: 'wa.meta.vc', port: 5061, transport: 'tls' },
};
const NUMBER = {
  number: '+15550100',
  appId: APP,
  trunk: 'meta',
  sipHostname: 'sip.example.com',
  password: 'meta-issued-secret',
};

describe('sip.whatsapp', () => {
  it('takes a business number on a whatsapp trunk, keyed by DTLS unless it says sdes', () => {
    const config = withSip({
      trunks: [META],
      whatsapp: { numbers: [NUMBER, { ...NUMBER, number: '+15550101', keying: 'sdes' }] },
    });
    const numbers = new WhatsAppNumbers(config.sip.whatsapp.numbers);
    expect(numbers.encryptionOf('+15550100')).toEqual({ method: 'dtls', required: true });
    expect(numbers.encryptionOf('+15550101')).toEqual({ method: 'sdes', required: true });
    const policies = new TrunkMediaPolicies(config.sip.trunks, numbers);
    expect(policies.encryptionOf('meta', '+15550101').method).toBe('sdes');
    expect(policies.encryptionOf('meta').method).toBe('none');
  });

  it.each([
    [
      { trunks: [META], whatsapp: { numbers: [{ ...NUMBER, trunk: 'nope' }] } },
      /whatsapp\.numbers\.0\.trunk.*no trunk named "nope"/,
    ],
    [
      { trunks: [{ ...META, kind: 'pstn' }], whatsapp: { numbers: [NUMBER] } },
      /whatsapp\.numbers\.0\.trunk.*not a whatsapp trunk/,
    ],
    [
      {
        trunks: [{ ...META, outbound: { host: 'wa.meta.vc', transport: 'tcp' } }],
        whatsapp: { numbers: [NUMBER] },
      },
      /must reach Meta over tls/,
    ],
    [
      { trunks: [META], whatsapp: { numbers: [{ ...NUMBER, keying: 'none' }] } },
      /whatsapp\.numbers\.0\.keying/,
    ],
    [
      { trunks: [META], whatsapp: { numbers: [{ ...NUMBER, password: '' }] } },
      /whatsapp\.numbers\.0\.password/,
    ],
    [
      { trunks: [META], numbers: [{ number: '+15550100', appId: APP }], whatsapp: { numbers: [NUMBER] } },
      /routed only once/,
    ],
    [{ contacts: ['sip:127.0.0.1:5061;transport=tls'] }, /sip\.tls.*needs sip\.tls/],
  ])('refuses %j', (sip, message) => {
    expect(configErrorOf(() => withSip(sip))).toMatch(message);
  });

  it('never echoes the password in a config error', () => {
    const message = configErrorOf(() =>
      withSip({ trunks: [META], whatsapp: { numbers: [{ ...NUMBER, sipHostname: 'not a host' }] } }),
    );
    expect(message).toMatch(/sipHostname/);
    expect(message).not.toContain(NUMBER.password);
  });

  it('addresses a business-initiated INVITE to the edge, from the number at its SIP hostname', () => {
    const config = withSip({ trunks: [META], whatsapp: { numbers: [NUMBER] } });
    const trunks = new OutboundTrunks(config.sip);
    expect(trunks.whatsappInviteFor(APP, '+15550100', '+447700900123')).toEqual({
      trunk: 'meta',
      uri: 'sip:+447700900123@wa.meta.vc:5061;transport=tls',
      headers: {
        From: '<sip:+15550100@sip.example.com>',
        To: '<sip:+447700900123@wa.meta.vc>',
        Allow: 'INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS',
      },
      encryption: { method: 'dtls', required: true },
      auth: { username: '+15550100', password: 'meta-issued-secret' },
    });
    // Another app's number, or a number that is not a business number, goes nowhere.
    expect(
      trunks.whatsappInviteFor('app_test_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y', '+15550100', '+447700900123'),
    ).toBeUndefined();
    expect(trunks.whatsappInviteFor(APP, '+15550199', '+447700900123')).toBeUndefined();
  });
});

describe('x-wa-meta-* headers', () => {
  it('become metadata.whatsapp and sip.h.* participant attributes', () => {
    const headers: Record<string, string> = {
      'x-wa-meta-wacid': 'wacid.ABGGFlA5FpafAgo6EhiNFFC',
      'x-wa-meta-user-id': 'US.13491208655302741918',
      'x-wa-meta-user-name': 'Ada',
      'x-wa-meta-user-country-code': 'US',
    };
    const info = whatsappInfoOf((name) => headers[name]);
    expect(info).toEqual({
      wacid: 'wacid.ABGGFlA5FpafAgo6EhiNFFC',
      userId: 'US.13491208655302741918',
      userName: 'Ada',
      countryCode: 'US',
    });
    expect(whatsappAttributes(info)).toEqual({
      'sip.h.x-wa-meta-wacid': 'wacid.ABGGFlA5FpafAgo6EhiNFFC',
      'sip.h.x-wa-meta-user-id': 'US.13491208655302741918',
      'sip.h.x-wa-meta-user-name': 'Ada',
      'sip.h.x-wa-meta-user-country-code': 'US',
    });
  });
});

describe('config/examples/whatsapp.yaml', () => {
  it('loads, with its number keyed by DTLS and its edge over TLS', () => {
    const config = loadConfig({ file: 'config/examples/whatsapp.yaml', env: {} });
    expect(config.sip.whatsapp.numbers[0]).toMatchObject({
      number: '+15550100',
      keying: 'dtls',
      trunk: 'meta',
    });
    expect(config.sip.trunks[0]?.outbound?.transport).toBe('tls');
    expect(config.sip.tls?.certFile).toMatch(/fullchain\.pem$/);
  });
});

describe('config/examples/whatsapp-graph.yaml and whatsapp.graph.numbers', () => {
  it('loads, with the provider’s own API when baseUrl is null', () => {
    const config = loadConfig({ file: 'config/examples/whatsapp-graph.yaml', env: {} });
    expect(config.whatsapp.graph.numbers[0]).toMatchObject({
      number: '+15550100',
      provider: 'meta',
      phoneNumberId: '106540352242922',
      baseUrl: null,
    });
    expect(config.whatsapp.sipPort).toBe(5061);
  });

  it('refuses a provider URL that would send the token in the clear, and a bad provider', () => {
    const number = {
      number: '+15550100',
      appId: 'app_0000000000000000000000000aa',
      phoneNumberId: '1',
      provider: 'meta',
      accessToken: 'token-123456',
      appSecret: 'secret-123456',
      verifyToken: 'verify-123456',
    };
    const parse = (entry: Record<string, unknown>) => graphNumberSchema.safeParse({ ...number, ...entry });
    expect(parse({ baseUrl: 'http://graph.example.com/v21.0' }).success).toBe(false);
    expect(parse({ baseUrl: 'http://127.0.0.1:8080/v21.0' }).success).toBe(true);
    expect(parse({ baseUrl: 'https://graph.example.com/v21.0' }).success).toBe(true);
    expect(parse({ provider: 'twilio' }).success).toBe(false);
    expect(parse({ phoneNumberId: '12a' }).success).toBe(false);
  });
});
