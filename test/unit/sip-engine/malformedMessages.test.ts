import { describe, expect, it } from 'vitest';
import { errorResponseForRaw } from '../../../sip/engine/message/errorResponseForRaw.js';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { SipParseError } from '../../../sip/engine/message/sipParseError.js';
import { inviteLines, sipText } from './sipFixtures.js';

function rejection(buf: Buffer, opts = {}): SipParseError {
  try {
    parseMessage(buf, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(SipParseError);
    return err as SipParseError;
  }
  throw new Error('message was accepted');
}

const cases: Array<[string, Buffer, RegExp]> = [
  ['garbage start line', sipText(['HELLO THERE', ...inviteLines().slice(1)]), /request line/],
  [
    'extra spaces in request line',
    sipText(['INVITE  sip:bob@example.com  SIP/2.0', ...inviteLines().slice(1)]),
    /request line/,
  ],
  [
    'Request-URI in angle brackets',
    sipText(['INVITE <sip:bob@example.com> SIP/2.0', ...inviteLines().slice(1)]),
    /Request-URI/,
  ],
  ['Request-URI without scheme', sipText(['INVITE bob SIP/2.0', ...inviteLines().slice(1)]), /Request-URI/],
  [
    'bad SIP URI host',
    sipText(['INVITE sip:bob@exa_mple..com SIP/2.0', ...inviteLines().slice(1)]),
    /Request-URI/,
  ],
  [
    'unsupported version',
    sipText(['INVITE sip:bob@example.com SIP/7.0', ...inviteLines().slice(1)]),
    /Version/,
  ],
  ['bad status code', sipText(['SIP/2.0 99 Odd', ...inviteLines().slice(1)]), /status/],
  ['status line garbage', sipText(['SIP/2.0 OK', ...inviteLines().slice(1)]), /status line/],
  ['missing To', sipText(inviteLines({ To: null })), /missing To/],
  ['missing From', sipText(inviteLines({ From: null })), /missing From/],
  ['missing Call-ID', sipText(inviteLines({ 'Call-ID': null })), /missing Call-ID/],
  ['missing CSeq', sipText(inviteLines({ CSeq: null })), /missing CSeq/],
  ['missing Via', sipText(inviteLines({ Via: null })), /missing Via/],
  ['missing Max-Forwards', sipText(inviteLines({ 'Max-Forwards': null })), /missing Max-Forwards/],
  ['CSeq method mismatch', sipText(inviteLines({ CSeq: '1 OPTIONS' })), /CSeq method/],
  ['non-numeric CSeq', sipText(inviteLines({ CSeq: 'abc INVITE' })), /CSeq/],
  ['CSeq over 32 bits', sipText(inviteLines({ CSeq: '4294967296 INVITE' })), /CSeq/],
  ['negative Content-Length', sipText([...inviteLines(), 'Content-Length: -5']), /Content-Length/],
  ['non-numeric Content-Length', sipText([...inviteLines(), 'Content-Length: ten']), /Content-Length/],
  ['Content-Length larger than body', sipText([...inviteLines(), 'Content-Length: 500'], 'short'), /shorter/],
  [
    'two Content-Length headers',
    sipText([...inviteLines(), 'Content-Length: 0', 'l: 0']),
    /multiple Content-Length/,
  ],
  ['two To headers', sipText([...inviteLines(), 'To: <sip:carol@example.com>']), /multiple To/],
  ['bad Via', sipText(inviteLines({ Via: 'SIP/2.0/UDP' })), /Via/],
  ['bad Via port', sipText(inviteLines({ Via: 'SIP/2.0/UDP host:99999;branch=z9hG4bK1' })), /Via/],
  [
    'unterminated quote in From',
    sipText(inviteLines({ From: '"Alice <sip:alice@example.org>;tag=1' })),
    /From/,
  ],
  ['From without URI scheme', sipText(inviteLines({ From: '<alice>;tag=1' })), /From/],
  ['Call-ID with space', sipText(inviteLines({ 'Call-ID': 'a b' })), /Call-ID/],
  ['bad Max-Forwards', sipText(inviteLines({ 'Max-Forwards': 'many' })), /Max-Forwards/],
  ['header line without colon', sipText([...inviteLines(), 'NoColonHere']), /header line/],
  ['header name with space', sipText([...inviteLines(), 'Bad Name: x']), /header/],
  [
    'continuation before first header',
    sipText(['INVITE sip:bob@example.com SIP/2.0', ' folded', ...inviteLines().slice(1)]),
    /continuation/,
  ],
  ['no blank line after headers', Buffer.from(inviteLines().join('\r\n')), /blank line/],
  ['empty datagram', Buffer.from('\r\n\r\n'), /empty/],
  ['NUL byte in headers', sipText([...inviteLines(), 'X-Bin: a\u0000b']), /binary/],
  [
    'octets that are not UTF-8 in the request line',
    Buffer.concat([
      sipText(inviteLines()).subarray(0, 20),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('\r\n\r\n'),
    ]),
    /request line/,
  ],
  ['bad Contact', sipText(inviteLines({ Contact: '<sip:alice@192.0.2.10' })), /Contact/],
];

describe('parseMessage rejects malformed messages with a typed, short reason', () => {
  it.each(cases)('%s', (_name, buf, reason) => {
    const err = rejection(buf);
    expect(err.reason).toMatch(reason);
    expect(err.reason.length).toBeLessThan(60);
  });

  it('limits the header section size', () => {
    const huge = sipText([...inviteLines(), `X-Huge: ${'a'.repeat(20_000)}`]);
    const err = rejection(huge, { maxHeaderBytes: 8192 });
    expect(err.reason).toMatch(/too large/);
    expect(err.status).toBe(513);
  });

  it('requires Content-Length on streams', () => {
    expect(rejection(sipText(inviteLines()), { requireContentLength: true }).reason).toMatch(
      /Content-Length/,
    );
  });

  it('never throws anything but SipParseError on random bytes', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const valid = sipText([...inviteLines(), 'Content-Length: 3'], 'abc');
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(valid);
      // Mutate a few bytes of a valid message, or produce pure noise.
      if (i % 4 === 0) for (let j = 0; j < buf.length; j++) buf[j] = rand() & 0xff;
      else for (let k = 0; k < 1 + (rand() % 6); k++) buf[rand() % buf.length] = rand() & 0xff;
      try {
        parseMessage(buf.subarray(0, rand() % (buf.length + 1)));
      } catch (err) {
        expect(err).toBeInstanceOf(SipParseError);
      }
    }
  });
});

describe('errorResponseForRaw', () => {
  it('builds a 400 carrying the reason and the request identifiers', () => {
    const raw = sipText(inviteLines({ CSeq: '1 OPTIONS' }));
    const err = rejection(raw);
    const reply = errorResponseForRaw(raw, err)?.toString() ?? '';
    expect(reply.startsWith('SIP/2.0 400 CSeq method does not match\r\n')).toBe(true);
    expect(reply).toContain('Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds');
    expect(reply).toContain('Call-ID: a84b4c76e66710@pc33.example.org');
    expect(reply).toContain('Content-Length: 0\r\n\r\n');
    // The reply itself must be a parseable response.
    expect(parseMessage(Buffer.from(reply)).kind).toBe('response');
  });

  it('does not answer responses, ACKs or messages without Via', () => {
    const e = new SipParseError('x');
    expect(
      errorResponseForRaw(sipText(['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1']), e),
    ).toBeUndefined();
    expect(
      errorResponseForRaw(sipText(['ACK sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1']), e),
    ).toBeUndefined();
    expect(errorResponseForRaw(sipText(['INVITE sip:a@b SIP/2.0', 'From: <sip:x@y>']), e)).toBeUndefined();
  });
});
