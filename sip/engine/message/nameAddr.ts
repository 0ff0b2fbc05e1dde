import { formatParams, parseParams, type SipParams } from './params.js';
import { SipParseError } from './sipParseError.js';
import { hasUriScheme } from './sipUri.js';

/** A From/To/Contact/Route value: optional display name, a URI, and header parameters. */
export interface NameAddr {
  displayName?: string;
  /** The URI text, unparsed (may be any scheme); parse with parseSipUri when it is sip/sips. */
  uri: string;
  params: SipParams;
}

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function parseNameAddr(text: string): NameAddr {
  const s = text.trim();
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  const lt = s.startsWith('"') ? -1 : s.indexOf('<');
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"\s*<([^>]*)>(.*)$/s.exec(s);
    if (!m) throw new SipParseError('bad name-addr');
    displayName = unquote(`"${m[1] ?? ''}"`);
    uri = (m[2] ?? '').trim();
    rest = m[3] ?? '';
  } else if (lt >= 0) {
    const gt = s.indexOf('>', lt);
    if (gt < 0) throw new SipParseError('unterminated <URI>');
    const name = s.slice(0, lt).trim();
    if (name !== '') {
      if (!/^[A-Za-z0-9\-.!%*_+`'~]+(\s+[A-Za-z0-9\-.!%*_+`'~]+)*$/.test(name)) {
        throw new SipParseError('bad display name');
      }
      displayName = name.replace(/\s+/g, ' ');
    }
    uri = s.slice(lt + 1, gt).trim();
    rest = s.slice(gt + 1);
  } else {
    // addr-spec form: the URI cannot carry ';' parameters itself, so they belong to the header.
    const semi = s.indexOf(';');
    uri = (semi < 0 ? s : s.slice(0, semi)).trim();
    rest = semi < 0 ? '' : s.slice(semi);
    // RFC 3261 20.10: a URI with ',', '?' or ';' must be enclosed in <>.
    if (/[?,]/.test(uri)) throw new SipParseError('URI with ? or , must be in <>');
  }
  if (!hasUriScheme(uri)) throw new SipParseError('bad URI in name-addr');
  const restTrimmed = rest.trim();
  if (restTrimmed !== '' && !restTrimmed.startsWith(';')) throw new SipParseError('bad name-addr');
  const na: NameAddr = { uri, params: parseParams(restTrimmed, 'header parameter') };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

export function formatNameAddr(na: NameAddr): string {
  const name = na.displayName === undefined ? '' : `"${na.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${name}<${na.uri}>${formatParams(na.params)}`;
}

export function nameAddrTag(na: NameAddr): string | undefined {
  return na.params.get('tag') ?? undefined;
}
