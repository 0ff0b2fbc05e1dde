import { isIP } from 'node:net';

/** A `host[:port]` setting taken apart: host without brackets, port when one is given. */
export interface HostPort {
  host: string;
  port: number | undefined;
}

const HOSTNAME =
  /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function validPort(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * `sip.example.com`, `sip.example.com:5080`, `203.0.113.9:5060`, `[2001:db8::1]:5060` or a bare
 * IPv6 address; undefined for anything else (a scheme, a path, a port out of range).
 */
export function parseHostPort(text: string): HostPort | undefined {
  const bracketed = /^\[([^\]]+)\](?::([^:]*))?$/.exec(text);
  if (bracketed) {
    const port = validPort(bracketed[2]);
    return bracketed[1] && isIP(bracketed[1]) === 6 && port !== null
      ? { host: bracketed[1], port }
      : undefined;
  }
  if (isIP(text) === 6) return { host: text, port: undefined };
  const [host = '', portText, ...rest] = text.split(':');
  const port = validPort(portText);
  if (rest.length > 0 || port === null) return undefined;
  return isIP(host) === 4 || HOSTNAME.test(host) ? { host, port } : undefined;
}
