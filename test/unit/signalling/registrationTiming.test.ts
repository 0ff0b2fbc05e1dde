import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../../../src/config/hostPort.js';
import { registrationTargetOf } from '../../../src/signalling/registration/registrationTarget.js';
import {
  deltaSeconds,
  grantedSeconds,
  refreshDelayMs,
  retryDelayMs,
} from '../../../src/signalling/registration/registrationTiming.js';
import { DEFAULT_REGISTRATION_TIMING } from '../../../src/signalling/registration/registrationTypes.js';
import { configErrorOf, withSip } from '../configFiles.js';

/**
 * The arithmetic of outbound registration (RFC 3261 §10): when a refresh goes out, how retries
 * back off, which expiry a 2xx grants, and what a trunk's REGISTER is addressed to. The exchange
 * itself: trunkRegistration.test.ts; over real sockets: test/integration/trunkRegistration.test.ts.
 */
const timing = DEFAULT_REGISTRATION_TIMING;

describe('refreshDelayMs', () => {
  it.each([
    // half the grant, which is the earlier of the two from 60 s up
    [3600, 1_800_000],
    [600, 300_000],
    [60, 30_000],
    // below 60 s "30 s before expiry" comes first, but the floor holds
    [40, 10_000],
    [20, 5_000],
    [1, 5_000],
    [0, 5_000],
  ])('refreshes a %i s grant after %i ms', (granted, delay) => {
    expect(refreshDelayMs(granted, timing)).toBe(delay);
  });

  it('follows the margin and floor it is given', () => {
    expect(refreshDelayMs(2, { refreshMarginMs: 500, refreshFloorMs: 100 })).toBe(1000);
    expect(refreshDelayMs(2, { refreshMarginMs: 1800, refreshFloorMs: 100 })).toBe(200);
    expect(refreshDelayMs(2, { refreshMarginMs: 30_000, refreshFloorMs: 100 })).toBe(100);
  });
});

describe('retryDelayMs', () => {
  it('doubles from 5 s per failure up to 5 min without jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 50, 5000].map((n) => retryDelayMs(n, timing, () => 0));
    expect(delays).toEqual([
      5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('shortens each delay by up to the jitter share, never beyond the cap', () => {
    for (const failures of [1, 3, 9]) {
      const base = Math.min(300_000, 5_000 * 2 ** (failures - 1));
      const low = retryDelayMs(failures, timing, () => 0.999_999);
      expect(low).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(low).toBeLessThan(base);
      expect(retryDelayMs(failures, timing, () => 0.5)).toBe(Math.round(base * 0.9));
    }
    expect(retryDelayMs(3, { retryInitialMs: 100, retryMaxMs: 250, retryJitter: 0 })).toBe(250);
  });
});

describe('deltaSeconds', () => {
  it('reads delta-seconds and nothing else', () => {
    expect(deltaSeconds(' 120 ')).toBe(120);
    expect(deltaSeconds('0')).toBe(0);
    expect(deltaSeconds('-1')).toBeUndefined();
    expect(deltaSeconds('12s')).toBeUndefined();
    expect(deltaSeconds('Thu, 01 Dec 1994 16:00:00 GMT')).toBeUndefined();
    expect(deltaSeconds(undefined)).toBeUndefined();
  });
});

describe('grantedSeconds', () => {
  const response = (headers: Record<string, string>) => ({
    get: (name: string) => headers[name.toLowerCase()],
  });
  const ours = '<sip:gw@192.0.2.10:5060;transport=tcp>';

  it('takes the expires parameter of our own Contact among the bindings', () => {
    const res = response({
      contact:
        '<sip:other@198.51.100.3>;expires=900, <sip:GW@192.0.2.10;transport=TCP>;q=0.5;expires=60, "x, y" <sip:z@x>;expires=30',
      expires: '7200',
    });
    expect(grantedSeconds(res, ours, 3600)).toBe(60);
  });

  it('takes the one Contact there is when the registrar rewrote ours (NAT)', () => {
    const res = response({ contact: '<sip:gw@203.0.113.50:40312;transport=tcp>;expires=300' });
    expect(grantedSeconds(res, ours, 3600)).toBe(300);
  });

  it('falls back to the Expires header, then to what was asked', () => {
    expect(grantedSeconds(response({ contact: `${ours}`, expires: '1800' }), ours, 3600)).toBe(1800);
    expect(
      grantedSeconds(response({ contact: '<sip:a@x>;expires=5, <sip:b@y>;expires=6' }), ours, 3600),
    ).toBe(3600);
    expect(grantedSeconds(response({}), ours, 3600)).toBe(3600);
    expect(grantedSeconds(response({}), undefined, 120)).toBe(120);
  });

  it('reads parameters of a Contact without angle brackets as the header’s', () => {
    const res = response({ contact: 'sip:gw@192.0.2.10:5060;transport=tcp;expires=90' });
    expect(grantedSeconds(res, ours, 3600)).toBe(90);
  });
});

describe('parseHostPort', () => {
  it.each([
    ['sip.carrier.example', { host: 'sip.carrier.example', port: undefined }],
    ['sip.carrier.example:5080', { host: 'sip.carrier.example', port: 5080 }],
    ['203.0.113.9:5060', { host: '203.0.113.9', port: 5060 }],
    ['[2001:db8::1]:5061', { host: '2001:db8::1', port: 5061 }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: undefined }],
    ['2001:db8::1', { host: '2001:db8::1', port: undefined }],
  ])('reads %s', (text, parsed) => {
    expect(parseHostPort(text)).toEqual(parsed);
  });

  it.each([
    'sip:carrier.example',
    'carrier.example:0',
    'carrier.example:70000',
    'a b',
    '[x]:5060',
    'h:1:2',
    '',
  ])('refuses %j', (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });
});

const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const trunk = (registration: Record<string, unknown>, outbound: Record<string, unknown> = {}) => ({
  name: 'carrier',
  kind: 'pstn',
  sourceAddresses: ['203.0.113.0/24'],
  outbound: { host: 'sip.carrier.example', ...outbound },
  registration,
});

describe('sip.trunks[].registration', () => {
  it('defaults to none, and to 3600 s when set', () => {
    const none = withSip({ trunks: [{ name: 'in', kind: 'pstn', sourceAddresses: ['203.0.113.7'] }] });
    expect(none.sip.trunks[0]?.registration).toBeNull();
    const config = withSip({ trunks: [trunk({ username: 'gw', password: 'registrar-secret' })] });
    expect(config.sip.trunks[0]?.registration).toEqual({
      username: 'gw',
      password: 'registrar-secret',
      expiresSeconds: 3600,
    });
  });

  it.each([
    [
      'a registration without outbound settings',
      {
        trunks: [
          {
            name: 'in',
            kind: 'pstn',
            sourceAddresses: ['203.0.113.7'],
            registration: { username: 'u', password: 'p' },
          },
        ],
      },
      /^sip\.trunks\.0\.registration: trunk "in" registers only with outbound settings/,
    ],
    [
      'an expiry under a minute',
      { trunks: [trunk({ username: 'gw', password: 'secret', expiresSeconds: 30 })] },
      /^sip\.trunks\.0\.registration\.expiresSeconds: /,
    ],
    [
      'a registrar that is a URI',
      { trunks: [trunk({ username: 'gw', password: 'secret', registrar: 'sip:reg.example' })] },
      /^sip\.trunks\.0\.registration\.registrar: host or host:port/,
    ],
    [
      'a registration without a password',
      { trunks: [trunk({ username: 'gw' })] },
      /^sip\.trunks\.0\.registration\.password: /,
    ],
    [
      'an unknown registration setting',
      { trunks: [trunk({ username: 'gw', password: 'secret', proxy: 'x' })] },
      /^sip\.trunks\.0\.registration\.proxy: unknown setting$/,
    ],
  ])('stops on %s, naming the key', (_what, sip, pattern) => {
    expect(configErrorOf(() => withSip(sip))).toMatch(pattern);
  });

  it('never echoes the registration password in an error', () => {
    const message = configErrorOf(() =>
      withSip({ trunks: [trunk({ username: 'gw', password: 98765432123 })], apps: [] }),
    );
    expect(message).toMatch(/^sip\.trunks\.0\.registration\.password: /);
    expect(message).not.toContain('98765432123');
  });

  it('addresses the REGISTER to the outbound host over its transport by default', () => {
    const config = withSip({
      trunks: [trunk({ username: 'gw', password: 'secret' }, { port: 5080, transport: 'udp' })],
      apps: [{ appId: APP, outboundTrunk: 'carrier' }],
    });
    const first = config.sip.trunks[0];
    expect(first && registrationTargetOf(first)).toEqual({
      trunk: 'carrier',
      uri: 'sip:sip.carrier.example:5080;transport=udp',
      aor: 'sip:gw@sip.carrier.example',
      contact: '<sip:gw@localhost>',
      expiresSeconds: 3600,
      credentials: { username: 'gw', password: 'secret' },
    });
  });

  it('names the realm in the Request-URI and routes it to the registrar', () => {
    const config = withSip({
      trunks: [
        trunk(
          {
            username: '+15550100',
            password: 'secret',
            realm: 'voip.carrier.example',
            registrar: '[2001:db8::7]:5070',
            expiresSeconds: 600,
            contactUser: 'pbx-1',
          },
          { transport: 'tcp' },
        ),
      ],
    });
    const first = config.sip.trunks[0];
    expect(first && registrationTargetOf(first)).toMatchObject({
      uri: 'sip:voip.carrier.example;transport=tcp',
      proxy: 'sip:[2001:db8::7]:5070;transport=tcp',
      aor: 'sip:+15550100@voip.carrier.example',
      contact: '<sip:pbx-1@localhost;transport=tcp>',
      expiresSeconds: 600,
    });
  });

  it('is nothing to register for a trunk without registration settings', () => {
    const config = withSip({ trunks: [{ ...trunk({}), registration: null }] });
    const first = config.sip.trunks[0];
    expect(first && registrationTargetOf(first)).toBeUndefined();
  });
});
