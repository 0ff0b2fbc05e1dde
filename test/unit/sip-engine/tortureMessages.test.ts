import { describe, expect, it } from 'vitest';
import { parseCSeq } from '../../../sip/engine/message/cseq.js';
import { parseNameAddr } from '../../../sip/engine/message/nameAddr.js';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { SipParseError } from '../../../sip/engine/message/sipParseError.js';
import { parseSipUri } from '../../../sip/engine/message/sipUri.js';
import { parseVia, viaBranch } from '../../../sip/engine/message/via.js';
import { inviteLines, sipText } from './sipFixtures.js';

// Messages in the spirit of RFC 4475 (written for this suite): legal but hostile to parsers.

const common = [
  'Max-Forwards: 70',
  'From: <sip:a@example.com>;tag=t1',
  'To: <sip:b@example.com>',
  'Call-ID: torture-1',
];

describe('valid torture messages are accepted', () => {
  it('unusual characters everywhere tokens and quoted strings allow them', () => {
    const method = "!strange-Method0123456789_*+`.%really'~";
    const uri =
      "sip:1_odd.URI~(for-sure!)&isn't+it$/mad?,/;;*:&it+has=1,odd!*pa$$wo~d_also.(really)@example.com";
    const m = parseMessage(
      sipText([
        `${method} ${uri} SIP/2.0`,
        "Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bK-.!%66*_+`'~",
        'Max-Forwards: 255',
        'To: "BEL:\\\u0007 NUL:\\\u0000 DEL:\\\u007f" <sip:1_odd.URI~(for-sure!)&isn\'t+it$/mad?,/;;*@example.com>',
        "From: tok1~` tok2'+_ tok3*%!.- <sip:plain@example.com>;fromParam''~+*_!.-%=\"работает\";tag=_t~1'+`*%!-.",
        'Call-ID: odd.word%ZK-!.*_+\'@word`~()<>:\\"/[]?{}',
        `CSeq: 1392934 ${method}`,
        "X-Unicode-Header-!.%*+_`'~: 大停電",
        `Contact: <${uri}>`,
        'Content-Length: 0',
      ]),
    );
    if (m.kind !== 'request') throw new Error('expected a request');
    expect(m.method).toBe(method);
    const parsed = parseSipUri(m.uri);
    expect(parsed.host).toBe('example.com');
    expect(parsed.user).toContain('it+has=1');
    expect(viaBranch(parseVia(m.headers.get('Via') ?? ''))).toBe("z9hG4bK-.!%66*_+`'~");
    expect(parseNameAddr(m.headers.get('From') ?? '').params.get('tag')).toBe("_t~1'+`*%!-.");
    expect(parseCSeq(m.headers.get('CSeq') ?? '').method).toBe(method);
    expect(m.headers.getAll('Contact')).toHaveLength(1);
  });

  it('percent escapes and semicolons inside user parts', () => {
    const m = parseMessage(
      sipText([
        'INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0',
        'Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK2',
        ...common,
        'CSeq: 2 INVITE',
        'Contact: <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%31>',
        'Route: <sip:user;par=u%40example.net@example.com>',
        'Content-Length: 0',
      ]),
    );
    if (m.kind !== 'request') throw new Error('expected a request');
    expect(parseSipUri(m.uri).user).toBe('sips%3Auser%40example.com');
    const contact = parseSipUri(parseNameAddr(m.headers.get('Contact') ?? '').uri);
    expect(contact.params.get('n%61me')).toBe('v%61lue%25%31');
    expect(parseSipUri(parseNameAddr(m.headers.get('Route') ?? '').uri).user).toBe(
      'user;par=u%40example.net',
    );
  });

  it('no space between display name and <, unknown transports, unknown URI schemes', () => {
    const m = parseMessage(
      sipText([
        'OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0',
        'Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bK3a, SIP/2.0/SCTP host2.example.com;branch=z9hG4bK3b',
        'Via: SIP/2.0/UNKNOWN host3.example.com;branch=z9hG4bK3c',
        'Max-Forwards: 70',
        'From: caller<sip:caller@example.com>;tag=323',
        'To: "callee"<sip:callee@example.com>',
        'Call-ID: nolws',
        'CSeq: 3 OPTIONS',
        'Content-Length: 0',
      ]),
    );
    if (m.kind !== 'request') throw new Error('expected a request');
    expect(m.headers.getAll('Via').map((v) => parseVia(v).transport)).toEqual(['UDP', 'SCTP', 'UNKNOWN']);
    expect(parseNameAddr(m.headers.get('From') ?? '').displayName).toBe('caller');
  });

  it('very long header values and many Via entries', () => {
    const vias = Array.from(
      { length: 40 },
      (_, i) => `SIP/2.0/TCP sip${i}.example.com:5060;branch=z9hG4bK${i}`,
    );
    const m = parseMessage(
      sipText([
        'INVITE sip:long@example.com SIP/2.0',
        ...vias.map((v) => `Via: ${v}`),
        'Max-Forwards: 70',
        `From: "${'I'.repeat(1000)}" <sip:amazinglylongcallername${'x'.repeat(200)}@example.net>;tag=12982424`,
        `To: <sip:long@example.com>;unknownparam${'y'.repeat(500)}=${'z'.repeat(500)}`,
        'Call-ID: long-values',
        'CSeq: 1 INVITE',
        `X-Long: ${'w'.repeat(3000)}`,
        'Content-Length: 0',
      ]),
    );
    expect(m.headers.getAll('Via')).toHaveLength(40);
    expect(parseNameAddr(m.headers.get('From') ?? '').displayName).toHaveLength(1000);
  });

  it('responses with UTF-8 or empty reason phrases', () => {
    const tail = [
      'Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK4',
      ...common,
      'CSeq: 4 INVITE',
      'Content-Length: 0',
    ];
    const utf = parseMessage(
      sipText(['SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое', ...tail]),
    );
    expect(utf.kind === 'response' && utf.reason).toContain('простое');
    const empty = parseMessage(sipText(['SIP/2.0 100 ', ...tail]));
    expect(empty.kind === 'response' && empty.reason).toBe('');
  });
});

const hostile: Array<[string, string[], RegExp]> = [
  [
    'doubled parameter separators',
    inviteLines({ Via: 'SIP/2.0/UDP h.example.com;branch=z9hG4bK1;;received=1.2.3.4' }),
    /Via/,
  ],
  ['Max-Forwards over 255', inviteLines({ 'Max-Forwards': '300' }), /Max-Forwards/],
  ['addr-spec with headers outside <>', inviteLines({ To: 'sip:user@example.com?Subject=foo' }), /To/],
  [
    'comma in unquoted display name',
    inviteLines({ From: 'Bell, Alexander <sip:a.g.bell@example.com>;tag=43' }),
    /From/,
  ],
  ['two values in To', inviteLines({ To: 'sip:a@example.com, sip:b@example.net' }), /To/],
  ['two values in CSeq', inviteLines({ CSeq: '1 INVITE, 2 INVITE' }), /CSeq/],
  [
    'space inside the Request-URI',
    ['INVITE sip:user@example.com; lr SIP/2.0', ...inviteLines().slice(1)],
    /request line/,
  ],
  [
    'trailing space after the version',
    ['INVITE sip:user@example.com SIP/2.0 ', ...inviteLines().slice(1)],
    /request line/,
  ],
  ['overlarge status code', ['SIP/2.0 4294967301 big', ...inviteLines().slice(1)], /status line/],
  ['unquoted space in URI of a name-addr', inviteLines({ To: '<sip: user@example.com>' }), /To/],
];

describe('hostile messages are rejected with a reason', () => {
  it.each(hostile)('%s', (_name, lines, reason) => {
    let caught: unknown;
    try {
      parseMessage(sipText([...lines, 'Content-Length: 0']));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SipParseError);
    expect((caught as SipParseError).reason).toMatch(reason);
  });
});
