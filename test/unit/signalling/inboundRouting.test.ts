import { describe, expect, it } from 'vitest';
import { calledNumber, NumberRouter } from '../../../src/signalling/inbound/numberRouter.js';
import { TrunkMatcher } from '../../../src/signalling/inbound/trunkMatcher.js';

describe('TrunkMatcher', () => {
  const matcher = new TrunkMatcher([
    {
      name: 'a',
      kind: 'pstn',
      sourceAddresses: ['203.0.113.0/24', '198.51.100.7'],
      inboundAuth: null,
      outbound: null,
      registration: null,
      media: { encryption: 'none', policy: 'required' },
    },
    {
      name: 'b',
      kind: 'whatsapp',
      sourceAddresses: ['2001:db8::/32'],
      inboundAuth: null,
      outbound: null,
      registration: null,
      media: { encryption: 'none', policy: 'required' },
    },
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
