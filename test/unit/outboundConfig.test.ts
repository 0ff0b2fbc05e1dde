import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { OutboundTrunks } from '../../src/signalling/outbound/outboundTrunks.js';
import { configErrorOf, withSip } from './configFiles.js';

/** The outbound side of trunks (sip.trunks[].outbound) and the apps' choice of trunk (sip.apps). */
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const OTHER = 'app_test_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y';

const carrier = {
  name: 'carrier',
  kind: 'pstn',
  sourceAddresses: ['203.0.113.0/24'],
  outbound: {
    host: 'sip.carrier.example',
    username: 'gw',
    password: 'hunter2-secret',
    fromDomain: 'carrier.example',
  },
};

describe('sip.trunks[].outbound and sip.apps', () => {
  it('default to no outbound side and no apps', () => {
    const config = withSip({ trunks: [{ name: 'in', kind: 'pstn', sourceAddresses: ['203.0.113.7'] }] });
    expect(config.sip.apps).toEqual([]);
    expect(config.sip.trunks[0]?.outbound).toBeNull();
  });

  it('take a trunk with an outbound destination (udp by default) chosen by an app', () => {
    const config = withSip({ trunks: [carrier], apps: [{ appId: APP, outboundTrunk: 'carrier' }] });
    expect(config.sip.trunks[0]?.outbound).toEqual({ ...carrier.outbound, transport: 'udp' });
    expect(config.sip.apps).toEqual([{ appId: APP, outboundTrunk: 'carrier' }]);
  });

  it('loads config/examples/pstn-trunk.yaml', () => {
    const file = fileURLToPath(new URL('../../config/examples/pstn-trunk.yaml', import.meta.url));
    const config = loadConfig({ file, env: {} });
    expect(config.sip.apps).toEqual([{ appId: APP, outboundTrunk: 'carrier' }]);
    expect(config.sip.trunks[0]?.outbound).toMatchObject({ host: 'sip.carrier.example', transport: 'udp' });
  });

  it.each([
    [
      'an app naming no trunk',
      { trunks: [carrier], apps: [{ appId: APP, outboundTrunk: 'nope' }] },
      /^sip\.apps\.0\.outboundTrunk: no trunk named "nope"/,
    ],
    [
      'an app naming an inbound-only trunk',
      {
        trunks: [{ name: 'in', kind: 'pstn', sourceAddresses: ['203.0.113.7'] }],
        apps: [{ appId: APP, outboundTrunk: 'in' }],
      },
      /^sip\.apps\.0\.outboundTrunk: trunk "in" has no outbound settings/,
    ],
    [
      'an app naming a whatsapp trunk',
      {
        trunks: [{ ...carrier, kind: 'whatsapp' }],
        apps: [{ appId: APP, outboundTrunk: 'carrier' }],
      },
      /^sip\.apps\.0\.outboundTrunk: trunk "carrier" is not a pstn trunk/,
    ],
    [
      'an app listed twice',
      {
        trunks: [carrier],
        apps: [
          { appId: APP, outboundTrunk: 'carrier' },
          { appId: APP, outboundTrunk: 'carrier' },
        ],
      },
      /^sip\.apps: each app may be listed only once/,
    ],
    [
      'a bad app id',
      { trunks: [carrier], apps: [{ appId: 'app_1', outboundTrunk: 'carrier' }] },
      /^sip\.apps\.0\.appId: /,
    ],
    [
      'a username without its password',
      { trunks: [{ ...carrier, outbound: { host: 'sip.carrier.example', username: 'gw' } }] },
      /^sip\.trunks\.0\.outbound\.password: username and password go together$/,
    ],
    [
      'an unknown transport',
      { trunks: [{ ...carrier, outbound: { host: 'sip.carrier.example', transport: 'sctp' } }] },
      /^sip\.trunks\.0\.outbound\.transport: /,
    ],
    [
      'a host that is not one',
      { trunks: [{ ...carrier, outbound: { host: 'sip carrier!' } }] },
      /^sip\.trunks\.0\.outbound\.host: a hostname or an IP address/,
    ],
    [
      'a port out of range',
      { trunks: [{ ...carrier, outbound: { host: '203.0.113.9', port: 70000 } }] },
      /^sip\.trunks\.0\.outbound\.port: /,
    ],
    [
      'an unknown outbound setting',
      { trunks: [{ ...carrier, outbound: { host: '203.0.113.9', proxy: 'x' } }] },
      /^sip\.trunks\.0\.outbound\.proxy: unknown setting$/,
    ],
  ])('stops on %s, naming the key', (_what, sip, pattern) => {
    expect(configErrorOf(() => withSip(sip))).toMatch(pattern);
  });

  it('never echoes a trunk password in an error', () => {
    const message = configErrorOf(() =>
      withSip({ trunks: [{ ...carrier, outbound: { ...carrier.outbound, password: 12345678 } }] }),
    );
    expect(message).toMatch(/^sip\.trunks\.0\.outbound\.password: /);
    expect(message).not.toContain('12345678');
  });
});

describe('OutboundTrunks', () => {
  const trunks = new OutboundTrunks(
    withSip({
      trunks: [
        carrier,
        {
          name: 'open',
          kind: 'pstn',
          sourceAddresses: ['2001:db8::/32'],
          outbound: { host: '2001:db8::5', port: 5070, transport: 'tcp' },
        },
      ],
      apps: [
        { appId: APP, outboundTrunk: 'carrier' },
        { appId: OTHER, outboundTrunk: 'open' },
      ],
    }).sip,
  );

  it('addresses the INVITE to the called number at the trunk, with the caller id in From and P-Asserted-Identity', () => {
    expect(trunks.inviteFor(APP, '+15550100', '+442071838750')).toEqual({
      trunk: 'carrier',
      uri: 'sip:+442071838750@sip.carrier.example;transport=udp',
      headers: {
        From: '<sip:+15550100@carrier.example>',
        To: '<sip:+442071838750@sip.carrier.example>',
        'P-Asserted-Identity': '<sip:+15550100@carrier.example>',
        Supported: '100rel',
      },
      auth: { username: 'gw', password: 'hunter2-secret' },
    });
  });

  it('brackets IPv6 hosts, keeps the port and sends no credentials to a trunk that has none', () => {
    expect(trunks.inviteFor(OTHER, '+15550100', '+15550123')).toEqual({
      trunk: 'open',
      uri: 'sip:+15550123@[2001:db8::5]:5070;transport=tcp',
      headers: {
        From: '<sip:+15550100@[2001:db8::5]>',
        To: '<sip:+15550123@[2001:db8::5]>',
        'P-Asserted-Identity': '<sip:+15550100@[2001:db8::5]>',
        Supported: '100rel',
      },
    });
  });

  it('knows no trunk for an app without one', () => {
    expect(trunks.trunkOf('app_3ZrQ8mWJvQpO8F0pQd3yZ8uYw1X')).toBeUndefined();
    expect(trunks.inviteFor('app_3ZrQ8mWJvQpO8F0pQd3yZ8uYw1X', '+15550100', '+15550123')).toBeUndefined();
    expect(trunks.trunkOf(APP)).toBe('carrier');
  });
});
