import { describe, expect, it } from 'vitest';
import {
  candidatePriority,
  hostCandidate,
  pairPriority,
  parseCandidate,
  writeCandidate,
} from '../../../src/media/ice/iceCandidate.js';
import { newIceCredentials } from '../../../src/media/ice/iceCredentials.js';
import { canonicalAddress } from '../../../src/media/ice/ipAddress.js';

describe('a=candidate', () => {
  it('reads and writes a host candidate', () => {
    const line = '1 1 udp 2130706431 127.0.0.1 40000 typ host';
    const candidate = parseCandidate(line);
    expect(candidate).toEqual({
      foundation: '1',
      component: 1,
      transport: 'udp',
      priority: 2130706431,
      address: '127.0.0.1',
      port: 40000,
      type: 'host',
    });
    expect(candidate && writeCandidate(candidate)).toBe(line);
  });

  it('keeps raddr and rport of a server-reflexive candidate and ignores extensions', () => {
    const line =
      '842163049 1 UDP 1677729535 203.0.113.7 61234 typ srflx raddr 10.0.0.5 rport 40000 generation 0';
    const candidate = parseCandidate(`candidate:${line}`);
    expect(candidate).toMatchObject({
      type: 'srflx',
      address: '203.0.113.7',
      port: 61234,
      relatedAddress: '10.0.0.5',
      relatedPort: 40000,
    });
    expect(candidate && writeCandidate(candidate)).toBe(
      '842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 10.0.0.5 rport 40000',
    );
  });

  it('brings IPv6 addresses to the form node:dgram reports', () => {
    expect(parseCandidate('2 1 udp 2130706175 2001:DB8:0:0:0:0:0:1 5000 typ host')?.address).toBe(
      '2001:db8::1',
    );
  });

  it('skips TCP candidates, hostnames and malformed lines', () => {
    expect(parseCandidate('1 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active')).toBeNull();
    expect(parseCandidate('1 1 udp 2130706431 3f1c1a8e-1111.local 40000 typ host')).toBeNull();
    expect(parseCandidate('1 1 udp 2130706431 127.0.0.1 40000 host')).toBeNull();
    expect(parseCandidate('1 1 udp 2130706431 127.0.0.1 70000 typ host')).toBeNull();
    expect(parseCandidate('1 1 udp 2130706431 127.0.0.1 4000 typ bogus')).toBeNull();
    expect(parseCandidate('')).toBeNull();
  });
});

describe('priorities', () => {
  it('a candidate: 2^24 type pref + 2^8 local pref + 256 - component (RFC 8445 §5.1.2.1)', () => {
    expect(candidatePriority(126, 65535, 1)).toBe(2130706431);
    expect(candidatePriority(0, 0, 256)).toBe(0);
    expect(hostCandidate('192.0.2.10', 40000)).toEqual({
      foundation: '1',
      component: 1,
      transport: 'udp',
      priority: 2130706431,
      address: '192.0.2.10',
      port: 40000,
      type: 'host',
    });
  });

  it('a pair: 2^32 min + 2 max + (G > D) (RFC 8445 §6.1.2.3), exact beyond 2^53', () => {
    const g = 2130706431;
    const d = 1694498815;
    expect(pairPriority(g, d)).toBe(2n ** 32n * BigInt(d) + 2n * BigInt(g) + 1n);
    expect(pairPriority(d, g)).toBe(2n ** 32n * BigInt(d) + 2n * BigInt(g));
    expect(pairPriority(2 ** 32 - 1, 2 ** 32 - 1)).toBe((2n ** 32n - 1n) * 2n ** 32n + 2n * (2n ** 32n - 1n));
  });
});

describe('credentials', () => {
  it('are ice-chars, long enough (RFC 8839 §5.4) and fresh each time', () => {
    const a = newIceCredentials();
    const b = newIceCredentials();
    expect(a.ufrag).toMatch(/^[A-Za-z0-9+/]{4,256}$/);
    expect(a.pwd).toMatch(/^[A-Za-z0-9+/]{22,256}$/);
    expect(a).not.toEqual(b);
  });
});

describe('addresses', () => {
  it('are compared in RFC 5952 form, as node:dgram reports a datagram source', () => {
    expect(canonicalAddress('::ffff:127.0.0.1')).toBe('::ffff:127.0.0.1');
    expect(canonicalAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(canonicalAddress('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
    expect(canonicalAddress('1:0:0:2:0:0:3:4')).toBe('1::2:0:0:3:4');
    expect(canonicalAddress('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalAddress('x::y')).toBeNull();
    expect(canonicalAddress('01.2.3.4')).toBeNull();
  });
});
