import { describe, expect, it } from 'vitest';
import { EngineArgsError } from '../../../sip/engine/cli/engineArgsError.js';
import { parseContact } from '../../../sip/engine/cli/parseContact.js';
import { parseEngineArgs } from '../../../sip/engine/cli/parseEngineArgs.js';

const BASE = ['--contact', 'sip:127.0.0.1:5060;transport=udp,tcp', '--secret', 'cymru'];

describe('parseEngineArgs', () => {
  it('accepts a drachtio-server command line', () => {
    const options = parseEngineArgs([
      ...BASE,
      '--contact',
      'sips:127.0.0.1:5061;transport=tls',
      '--external-ip',
      '203.0.113.7',
      '--port',
      '9023',
      '--address',
      '127.0.0.1',
      '--key-file',
      'k.pem',
      '--cert-file',
      'c.pem',
      '--loglevel',
      'debug',
      '--noconfig',
      '--stdout',
    ]);
    expect(options).toMatchObject({
      admin: { address: '127.0.0.1', port: 9023 },
      secret: 'cymru',
      tls: { keyFile: 'k.pem', certFile: 'c.pem' },
      logLevel: 'debug',
      noConfig: true,
      stdout: true,
      warnings: [],
    });
    expect(options.contacts).toEqual([
      {
        uri: 'sip:127.0.0.1:5060;transport=udp,tcp',
        scheme: 'sip',
        host: '127.0.0.1',
        port: 5060,
        transports: ['udp', 'tcp'],
      },
      {
        uri: 'sips:127.0.0.1:5061;transport=tls',
        scheme: 'sips',
        host: '127.0.0.1',
        port: 5061,
        transports: ['tls'],
        externalIp: '203.0.113.7',
      },
    ]);
  });

  it('defaults the admin listener to 127.0.0.1:9022 (not all interfaces) and loglevel info', () => {
    expect(parseEngineArgs(BASE)).toMatchObject({
      admin: { address: '127.0.0.1', port: 9022 },
      logLevel: 'info',
    });
  });

  it('refuses the well-known secret cymru on an admin address other hosts can reach', () => {
    for (const address of ['0.0.0.0', '::', '192.0.2.10']) {
      expect(() => parseEngineArgs([...BASE, '--address', address])).toThrow(
        /well-known example: refusing it on --address/,
      );
    }
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
      expect(parseEngineArgs([...BASE, '--address', address]).admin.address).toBe(address);
    }
    const own = ['--contact', 'sip:127.0.0.1:5060', '--secret', 'x7Rk2', '--address', '0.0.0.0'];
    expect(parseEngineArgs(own).admin.address).toBe('0.0.0.0');
  });

  it('warns that -f is not read unless --noconfig is given', () => {
    expect(parseEngineArgs([...BASE, '-f', '/etc/drachtio.conf.xml']).warnings[0]).toMatch(/not read/);
    expect(parseEngineArgs([...BASE, '-f', '/etc/drachtio.conf.xml', '--noconfig']).warnings).toEqual([]);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional/i],
    [['--loglevel', 'trace'], /valid choices/],
    [['--port', 'x'], /not a port/],
    [['--port', '70000'], /out of range/],
  ])('rejects %j', (extra, message) => {
    expect(() => parseEngineArgs([...BASE, ...extra])).toThrow(message);
  });

  it('requires contacts, a secret, TLS files for tls, and --external-ip after a contact', () => {
    expect(() => parseEngineArgs(['--secret', 's'])).toThrow(/--contact is required/);
    expect(() => parseEngineArgs(['--contact', 'sip:127.0.0.1'])).toThrow(/--secret is required/);
    expect(() => parseEngineArgs(['--secret', 's', '--contact', 'sips:127.0.0.1'])).toThrow(/--key-file/);
    expect(() => parseEngineArgs(['--external-ip', '1.2.3.4', ...BASE])).toThrow(/must follow/);
    expect(() => parseEngineArgs([...BASE, '--external-ip', '1.1.1.1', '-x', '2.2.2.2'])).toThrow(
      /more than one/,
    );
  });

  it('skips validation for --help and --version', () => {
    expect(parseEngineArgs(['--help'])).toMatchObject({ help: true, contacts: [] });
    expect(parseEngineArgs(['-v']).version).toBe(true);
  });
  it("takes drachtio-server's --prometheus-scrape-port as a port or address:port", () => {
    expect(parseEngineArgs(BASE).prometheus).toBeUndefined();
    expect(parseEngineArgs([...BASE, '--prometheus-scrape-port', '9091']).prometheus).toEqual({
      address: '0.0.0.0',
      port: 9091,
    });
    expect(parseEngineArgs([...BASE, '--prometheus-scrape-port', '127.0.0.1:0']).prometheus).toEqual({
      address: '127.0.0.1',
      port: 0,
    });
    expect(() => parseEngineArgs([...BASE, '--prometheus-scrape-port', 'x'])).toThrow(EngineArgsError);
    expect(() => parseEngineArgs([...BASE, '--prometheus-scrape-port', ':9091'])).toThrow(EngineArgsError);
  });
});

describe('parseContact', () => {
  it('applies drachtio defaults for port and transport', () => {
    expect(parseContact('sip:10.0.0.1')).toMatchObject({ port: 5060, transports: ['udp', 'tcp'] });
    expect(parseContact('sips:sip.example.com')).toMatchObject({
      host: 'sip.example.com',
      port: 5061,
      transports: ['tls'],
    });
    expect(parseContact('sip:*:5080;transport=tcp')).toMatchObject({
      host: '*',
      port: 5080,
      transports: ['tcp'],
    });
  });

  it('parses bracketed IPv6', () => {
    expect(parseContact('sip:[::1]:5070;transport=udp')).toMatchObject({ host: '::1', port: 5070 });
  });

  it.each([
    'http://x',
    'sip:user@127.0.0.1',
    'sip:127.0.0.1;transport=ws',
    'sips:127.0.0.1;transport=udp',
    'sip:::1',
    'sip:[::1',
    'sip:bad_host!',
  ])('rejects %s', (uri) => {
    expect(() => parseContact(uri)).toThrow(EngineArgsError);
  });
});
