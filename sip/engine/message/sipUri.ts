import { formatParams, parseParams, type SipParams } from './params.js';
import { SipParseError } from './sipParseError.js';

export interface SipUri {
  /** Lower-cased: `sip` or `sips` (other schemes are not parsed by this helper). */
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  /** Host name or address; IPv6 without brackets. */
  host: string;
  port?: number;
  params: SipParams;
  /** Raw `?` header part, without the `?`. */
  headers?: string;
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;
const USER_CHARS = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD_CHARS = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;

export function isValidHost(host: string): boolean {
  if (IPV4.test(host)) return host.split('.').every((o) => Number(o) <= 255);
  if (host.includes(':')) return IPV6.test(host);
  return HOSTNAME.test(host);
}

/** Splits `host[:port]` where host may be a bracketed IPv6 reference; throws on malformed input. */
export function parseHostPort(text: string, what = 'host'): { host: string; port?: number } {
  const hp = text.replace(/\s+/g, '');
  let host: string;
  let portText: string | undefined;
  if (hp.startsWith('[')) {
    const close = hp.indexOf(']');
    if (close < 0) throw new SipParseError(`bad IPv6 ${what}`);
    host = hp.slice(1, close);
    if (!host.includes(':') || !IPV6.test(host)) throw new SipParseError(`bad IPv6 ${what}`);
    const rest = hp.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new SipParseError(`bad ${what}`);
      portText = rest.slice(1);
    }
  } else {
    const colon = hp.indexOf(':');
    host = colon < 0 ? hp : hp.slice(0, colon);
    portText = colon < 0 ? undefined : hp.slice(colon + 1);
    if (host.includes(':') || !isValidHost(host)) throw new SipParseError(`bad ${what}`);
  }
  if (host === '') throw new SipParseError(`empty ${what}`);
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new SipParseError(`bad ${what} port`);
  return { host, port: Number(portText) };
}

export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function formatHostPort(host: string, port?: number): string {
  return port === undefined ? formatHost(host) : `${formatHost(host)}:${port}`;
}

export function parseSipUri(text: string): SipUri {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const scheme = colon < 0 ? '' : trimmed.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') throw new SipParseError('not a SIP URI');
  let rest = trimmed.slice(colon + 1);
  if (/\s/.test(rest)) throw new SipParseError('whitespace in SIP URI');
  let headers: string | undefined;
  let user: string | undefined;
  let password: string | undefined;
  // An unescaped '@' can only end the userinfo (params and headers may not contain one), while
  // '?' and ';' are legal inside a user part, so split on '@' before looking for them.
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    // A telephone-subscriber user part may itself contain ';' and ':'; only split off a password
    // when what follows the colon looks like one.
    const pc = userinfo.indexOf(':');
    if (pc >= 0 && PASSWORD_CHARS.test(userinfo.slice(pc + 1)) && !userinfo.slice(0, pc).includes(';')) {
      user = userinfo.slice(0, pc);
      password = userinfo.slice(pc + 1);
    } else {
      user = userinfo;
    }
    if (user === '' || !USER_CHARS.test(user.replace(/:/g, '')))
      throw new SipParseError('bad user in SIP URI');
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  const hostPart = semi < 0 ? rest : rest.slice(0, semi);
  const { host, port } = parseHostPort(hostPart, 'URI host');
  const params = semi < 0 ? new Map<string, string | null>() : parseParams(rest.slice(semi), 'URI parameter');
  const uri: SipUri = { scheme, host, params };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  if (headers !== undefined) uri.headers = headers;
  return uri;
}

export function formatSipUri(uri: SipUri): string {
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    out += uri.user;
    if (uri.password !== undefined) out += `:${uri.password}`;
    out += '@';
  }
  out += formatHostPort(uri.host, uri.port);
  out += formatParams(uri.params);
  if (uri.headers !== undefined) out += `?${uri.headers}`;
  return out;
}

/** True when the text starts with a URI scheme (`scheme ":"`), the minimum any Request-URI needs. */
export function hasUriScheme(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(text);
}
