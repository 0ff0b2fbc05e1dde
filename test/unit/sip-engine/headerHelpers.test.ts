import { describe, expect, it } from 'vitest';
import { formatCSeq, parseCSeq } from '../../../sip/engine/message/cseq.js';
import { formatNameAddr, nameAddrTag, parseNameAddr } from '../../../sip/engine/message/nameAddr.js';
import { SipHeaders } from '../../../sip/engine/message/sipHeaders.js';
import { SipParseError } from '../../../sip/engine/message/sipParseError.js';
import { formatSipUri, parseSipUri } from '../../../sip/engine/message/sipUri.js';
import {
  formatVia,
  parseVia,
  viaBranch,
  viaReceived,
  viaRport,
  viaSentBy,
} from '../../../sip/engine/message/via.js';

describe('Via', () => {
  it('parses branch, received, rport, host, port and transport', () => {
    const via = parseVia(
      'SIP/2.0/tcp pc33.Example.com:5070;branch=z9hG4bKnashds8;received=192.0.2.1;rport=4000',
    );
    expect(via.transport).toBe('TCP');
    expect(via.host).toBe('pc33.Example.com');
    expect(via.port).toBe(5070);
    expect(viaBranch(via)).toBe('z9hG4bKnashds8');
    expect(viaReceived(via)).toBe('192.0.2.1');
    expect(viaRport(via)).toBe(4000);
    expect(viaSentBy(via)).toBe('pc33.example.com:5070');
  });

  it('keeps a valueless rport and default ports per transport', () => {
    const via = parseVia('SIP/2.0/TLS [2001:db8::1];rport;branch=z9hG4bK1');
    expect(via.params.get('rport')).toBeNull();
    expect(viaRport(via)).toBeUndefined();
    expect(viaSentBy(via)).toBe('2001:db8::1:5061');
  });

  it('formats back to wire form, bracketing IPv6', () => {
    const via = parseVia('SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx;rport');
    via.params.set('rport', '1234');
    via.params.set('received', '::1');
    expect(formatVia(via)).toBe('SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx;rport=1234;received=::1');
  });
});

describe('SIP URI', () => {
  it('parses user, password, host, port, params and headers', () => {
    const uri = parseSipUri('SIPS:alice:secret@Atlanta.com:5061;transport=TLS;lr?subject=project');
    expect(uri).toMatchObject({
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'Atlanta.com',
      port: 5061,
    });
    expect(uri.params.get('transport')).toBe('TLS');
    expect(uri.params.get('lr')).toBeNull();
    expect(uri.headers).toBe('subject=project');
    expect(formatSipUri(uri)).toBe('sips:alice:secret@Atlanta.com:5061;transport=TLS;lr?subject=project');
  });

  it('handles telephone-subscriber users and IPv6 hosts', () => {
    const tel = parseSipUri('sip:+1-212-555-1212;npdi@gateway.com;user=phone');
    expect(tel.user).toBe('+1-212-555-1212;npdi');
    expect(tel.params.get('user')).toBe('phone');
    const v6 = parseSipUri('sip:[2001:db8::10]');
    expect(v6.host).toBe('2001:db8::10');
    expect(formatSipUri(v6)).toBe('sip:[2001:db8::10]');
  });

  it('rejects non-SIP schemes and broken hosts', () => {
    expect(() => parseSipUri('tel:+123')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:user@[2001:db8::1')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:user@host:port')).toThrow(SipParseError);
  });
});

describe('name-addr', () => {
  it('parses quoted, token and absent display names', () => {
    expect(parseNameAddr('"A \\"B\\"" <sip:a@b>;tag=1')).toMatchObject({
      displayName: 'A "B"',
      uri: 'sip:a@b',
    });
    expect(parseNameAddr('Bob   Smith <sip:bob@b>')).toMatchObject({
      displayName: 'Bob Smith',
      uri: 'sip:bob@b',
    });
    const spec = parseNameAddr('sip:c@d;tag=xyz');
    expect(spec.uri).toBe('sip:c@d');
    expect(nameAddrTag(spec)).toBe('xyz');
  });

  it('formats with brackets and escaping', () => {
    const na = parseNameAddr('sip:c@d;tag=xyz');
    na.displayName = 'Quote "me"';
    expect(formatNameAddr(na)).toBe('"Quote \\"me\\"" <sip:c@d>;tag=xyz');
  });
});

describe('CSeq', () => {
  it('parses and formats', () => {
    expect(parseCSeq(' 42   INVITE ')).toEqual({ seq: 42, method: 'INVITE' });
    expect(formatCSeq({ seq: 7, method: 'BYE' })).toBe('7 BYE');
    expect(() => parseCSeq('INVITE 1')).toThrow(SipParseError);
  });
});

describe('SipHeaders', () => {
  it('treats compact and full names alike and replaces the top value of a list line', () => {
    const h = new SipHeaders([
      { name: 'v', value: 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2' },
      { name: 'Via', value: 'SIP/2.0/UDP c;branch=z9hG4bK3' },
    ]);
    expect(h.getAll('VIA')).toHaveLength(3);
    h.replaceFirst('Via', 'SIP/2.0/UDP z;branch=z9hG4bK9');
    expect(h.get('via')).toBe('SIP/2.0/UDP z;branch=z9hG4bK9');
    h.replaceFirst('Via', null);
    expect(h.getAll('Via')).toEqual(['SIP/2.0/UDP b;branch=z9hG4bK2', 'SIP/2.0/UDP c;branch=z9hG4bK3']);
    h.prepend('Via', 'SIP/2.0/TCP top;branch=z9hG4bK0');
    expect(h.get('Via')).toBe('SIP/2.0/TCP top;branch=z9hG4bK0');
  });

  it('does not split headers whose grammar allows bare commas', () => {
    const h = new SipHeaders([
      { name: 'WWW-Authenticate', value: 'Digest realm="a", nonce="b", qop="auth"' },
    ]);
    expect(h.getAll('www-authenticate')).toHaveLength(1);
  });
});
