import { describe, expect, it } from 'vitest';
import { parseCSeq } from '../../../sip/engine/message/cseq.js';
import type { SipRequest, SipResponse } from '../../../sip/engine/message/messageTypes.js';
import { parseNameAddr } from '../../../sip/engine/message/nameAddr.js';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { serializeMessage } from '../../../sip/engine/message/serializeMessage.js';
import { parseSipUri } from '../../../sip/engine/message/sipUri.js';
import { parseVia, viaBranch } from '../../../sip/engine/message/via.js';
import { inviteLines, sipText } from './sipFixtures.js';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function req(buf: Buffer): SipRequest {
  const m = parseMessage(buf);
  if (m.kind !== 'request') throw new Error('expected request');
  return m;
}

describe('parseMessage: well-formed messages', () => {
  it('parses a plain INVITE with an SDP body sized by Content-Length', () => {
    const m = req(
      sipText([...inviteLines(), 'Content-Type: application/sdp', `Content-Length: ${SDP.length}`], SDP),
    );
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:bob@example.com');
    expect(m.headers.get('call-id')).toBe('a84b4c76e66710@pc33.example.org');
    expect(m.body.toString()).toBe(SDP);
  });

  it('parses a response with an empty reason phrase', () => {
    const lines = inviteLines().slice(1);
    const m = parseMessage(sipText(['SIP/2.0 200', ...lines, 'Content-Length: 0'])) as SipResponse;
    expect(m.kind).toBe('response');
    expect(m.status).toBe(200);
    expect(m.reason).toBe('');
  });

  it('expands compact header names', () => {
    const m = req(
      sipText(
        [
          'OPTIONS sip:bob@example.com SIP/2.0',
          'v: SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK74b43',
          'Max-Forwards: 70',
          't: sip:bob@example.com',
          'f: <sip:alice@example.org>;tag=abc',
          'i: compact-call-id',
          'CSeq: 1 OPTIONS',
          'm: <sip:alice@client.example.com>',
          'k: timer, 100rel',
          'c: text/plain',
          'l: 5',
        ],
        'hello',
      ),
    );
    expect(m.body.toString()).toBe('hello');
    expect(m.headers.get('Via')).toContain('client.example.com');
    expect(m.headers.get('To')).toBe('sip:bob@example.com');
    expect(m.headers.get('Call-ID')).toBe('compact-call-id');
    expect(m.headers.getAll('Supported')).toEqual(['timer', '100rel']);
    expect(m.headers.get('Content-Type')).toBe('text/plain');
    expect(m.headers.entries().map((h) => h.name)).toContain('Contact');
  });

  it('unfolds continuation lines and tolerates odd spacing and case', () => {
    const m = req(
      sipText([
        'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
        'TO :',
        ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
        'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
        '  ;',
        '  tag = 98asjd8',
        'MaX-fOrWaRdS: 0068',
        'Call-ID: wsinv.ndaksdj@192.0.2.1',
        'cseq: 0009',
        '  INVITE',
        'Via  : SIP  /   2.0',
        ' /UDP',
        '    192.0.2.2;branch=390skdjuw',
        'v:  SIP/2.0/TCP     spindle.example.com   ;',
        '  branch  =   z9hG4bK9ikj8  ,',
        ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
        ' z9hG4bK30239',
        'NewFangledHeader:   newfangled value',
        ' continued newfangled value',
        'Content-Length: 0',
      ]),
    );
    expect(m.headers.getAll('Via')).toHaveLength(3);
    const vias = m.headers.getAll('Via').map(parseVia);
    expect(vias[0]?.host).toBe('192.0.2.2');
    expect(vias[1]?.transport).toBe('TCP');
    expect(vias[2] && viaBranch(vias[2])).toBe('z9hG4bK30239');
    expect(parseCSeq(m.headers.get('CSeq') ?? '')).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    const from = parseNameAddr(m.headers.get('From') ?? '');
    expect(from.params.get('tag')).toBe('98asjd8');
    expect(from.displayName).toBe('J Rosenberg \\"');
    const to = parseNameAddr(m.headers.get('To') ?? '');
    expect(to.params.get('tag')).toBe('1918181833n');
  });

  it('splits comma-separated values, respecting quotes and angle brackets', () => {
    const m = req(
      sipText([
        ...inviteLines({ Contact: null }),
        'Contact: "Doe, John" <sip:john@192.0.2.4;x=a,b>;q=0.7, <sip:other@192.0.2.5>',
        'Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>',
        'Route: <sip:p3.example.com;lr>',
        'Content-Length: 0',
      ]),
    );
    const contacts = m.headers.getAll('Contact');
    expect(contacts).toHaveLength(2);
    expect(parseNameAddr(contacts[0] ?? '').displayName).toBe('Doe, John');
    expect(m.headers.getAll('Route')).toEqual([
      '<sip:p1.example.com;lr>',
      '<sip:p2.example.com;lr>',
      '<sip:p3.example.com;lr>',
    ]);
  });

  it('accepts IPv6 in Request-URI, Via and Contact', () => {
    const m = req(
      sipText([
        'REGISTER sip:[2001:db8::10]:5070 SIP/2.0',
        'Via: SIP/2.0/UDP [2001:db8::9:1]:5061;branch=z9hG4bKas3-111;rport',
        'Max-Forwards: 70',
        'From: <sip:user@example.com>;tag=81x2',
        'To: <sip:user@example.com>',
        'Call-ID: SSG9559905523997077@hlau_4100',
        'CSeq: 98176 REGISTER',
        'Contact: "Caller" <sip:caller@[2001:db8::1]:5060;transport=tcp>',
        'Content-Length: 0',
      ]),
    );
    const uri = parseSipUri(m.uri);
    expect(uri.host).toBe('2001:db8::10');
    expect(uri.port).toBe(5070);
    const via = parseVia(m.headers.get('Via') ?? '');
    expect(via.host).toBe('2001:db8::9:1');
    expect(via.port).toBe(5061);
    expect(via.params.has('rport')).toBe(true);
    const contact = parseSipUri(parseNameAddr(m.headers.get('Contact') ?? '').uri);
    expect(contact.host).toBe('2001:db8::1');
    expect(contact.params.get('transport')).toBe('tcp');
  });

  it('accepts leading CRLFs, a tel: Request-URI, unknown methods and bare LF line ends', () => {
    const lf = Buffer.from(
      `\r\n\r\nFOO tel:+14085551212 SIP/2.0\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\nMax-Forwards: 70\nFrom: <sip:a@b>;tag=1\nTo: <tel:+14085551212>\nCall-ID: x\nCSeq: 1 FOO\n\n`,
    );
    const m = req(lf);
    expect(m.method).toBe('FOO');
    expect(m.uri).toBe('tel:+14085551212');
  });

  it('discards datagram bytes beyond Content-Length and reads the rest without one', () => {
    const extra = req(sipText([...inviteLines(), 'Content-Length: 4'], 'abcdEXTRA'));
    expect(extra.body.toString()).toBe('abcd');
    const none = req(sipText(inviteLines(), 'whole body'));
    expect(none.body.toString()).toBe('whole body');
  });
});

describe('serializeMessage', () => {
  it('writes Content-Length from the body and keeps header order', () => {
    const m = req(
      sipText([...inviteLines(), 'Content-Type: application/sdp', `Content-Length: ${SDP.length}`], SDP),
    );
    m.body = Buffer.from('v=0\r\n');
    const wire = serializeMessage(m).toString();
    expect(wire.startsWith('INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060')).toBe(
      true,
    );
    expect(wire).toContain('Content-Length: 5\r\n\r\nv=0\r\n');
    expect(wire.match(/Content-Length/g)).toHaveLength(1);
    const again = req(Buffer.from(wire));
    expect(again.body.toString()).toBe('v=0\r\n');
    expect(again.headers.get('From')).toBe(m.headers.get('From'));
  });
});

describe('parseMessage partial mode (messages from drachtio apps)', () => {
  it('accepts a request without the headers the server fills in', () => {
    const m = parseMessage(
      Buffer.from('INFO sip:placeholder SIP/2.0\r\nContent-Type: application/dtmf-relay\r\n\r\nSignal=5'),
      {
        partial: true,
      },
    );
    expect(m.kind === 'request' && m.method).toBe('INFO');
    expect(m.body.toString()).toBe('Signal=5');
    expect(() => parseMessage(Buffer.from('INFO sip:placeholder SIP/2.0\r\n\r\n'))).toThrow(/missing/);
  });

  it('accepts a bare status line with no blank line after it', () => {
    const m = parseMessage(Buffer.from('SIP/2.0 486 Busy Here\r\nX-Reason: busy'), { partial: true });
    expect(m.kind === 'response' && m.status).toBe(486);
    expect(m.headers.get('X-Reason')).toBe('busy');
    expect(m.body.length).toBe(0);
  });

  it('still rejects a bad start line', () => {
    expect(() => parseMessage(Buffer.from('HELLO\r\n\r\n'), { partial: true })).toThrow(/request line/);
  });
});

describe('createRequest + addTopVia', () => {
  it('builds a request that serializes into a valid message', async () => {
    const { createRequest } = await import('../../../sip/engine/message/createRequest.js');
    const { addTopVia } = await import('../../../sip/engine/transport/outgoingHeaders.js');
    const r = createRequest({
      method: 'INVITE',
      uri: 'sip:bob@[2001:db8::1]:5070',
      from: '<sip:alice@example.org>;tag=1',
      to: '<sip:bob@example.com>',
      callId: 'c1',
      cseq: 7,
      contact: '<sip:alice@192.0.2.1>',
      headers: [['Content-Type', 'application/sdp']],
      body: Buffer.from(SDP),
    });
    addTopVia(r, 'tcp', { host: '2001:db8::2', port: 5060 }, 'z9hG4bKx1');
    const again = req(serializeMessage(r));
    expect(again.headers.get('Via')).toBe('SIP/2.0/TCP [2001:db8::2]:5060;branch=z9hG4bKx1;rport');
    expect(again.headers.get('CSeq')).toBe('7 INVITE');
    expect(again.body.toString()).toBe(SDP);
  });
});
