import { isIP } from 'node:net';
import { EngineArgsError } from './engineArgsError.js';
import type { ContactSpec, SipTransportName } from './engineOptionsTypes.js';

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls']);
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Parses a drachtio-server `--contact`: `sip:<host>[:<port>][;transport=<t>[,<t>…]]`, or `sips:` for
 * TLS. Without a transport param, sip means udp and tcp and sips means tls (drachtio-server's
 * defaults); without a port, 5060 for sip and 5061 for sips. ws/wss are not implemented.
 */
export function parseContact(uri: string): ContactSpec {
  const match = /^(sips?):(.+)$/i.exec(uri.trim());
  if (match === null) throw new EngineArgsError(`--contact '${uri}': must start with sip: or sips:`);
  const scheme = (match[1] as string).toLowerCase() as 'sip' | 'sips';
  const [hostport = '', ...paramParts] = (match[2] as string).split(';');
  if (hostport.includes('@')) throw new EngineArgsError(`--contact '${uri}': a user part is not allowed`);

  const { host, port } = splitHostPort(uri, hostport, scheme === 'sips' ? 5061 : 5060);

  let transports: SipTransportName[] | undefined;
  for (const part of paramParts) {
    const [name = '', value = ''] = part.split('=');
    if (name.trim().toLowerCase() !== 'transport') continue;
    transports = value.split(',').map((t) => {
      const name = t.trim().toLowerCase();
      if (!TRANSPORTS.has(name)) {
        throw new EngineArgsError(`--contact '${uri}': transport '${t}' is not supported (udp, tcp, tls)`);
      }
      return name as SipTransportName;
    });
  }
  transports ??= scheme === 'sips' ? ['tls'] : ['udp', 'tcp'];
  if (scheme === 'sips' && transports.some((t) => t !== 'tls')) {
    throw new EngineArgsError(`--contact '${uri}': sips: contacts carry only transport=tls`);
  }
  return { uri, scheme, host, port, transports: [...new Set(transports)] };
}

function splitHostPort(uri: string, hostport: string, defaultPort: number): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close === -1) throw new EngineArgsError(`--contact '${uri}': unterminated IPv6 address`);
    host = hostport.slice(1, close);
    const rest = hostport.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new EngineArgsError(`--contact '${uri}': bad host:port`);
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) throw new EngineArgsError(`--contact '${uri}': '${host}' is not an IPv6 address`);
  } else {
    const parts = hostport.split(':');
    if (parts.length > 2) throw new EngineArgsError(`--contact '${uri}': put IPv6 addresses in brackets`);
    host = parts[0] ?? '';
    portText = parts[1];
    if (host !== '*' && isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw new EngineArgsError(`--contact '${uri}': '${host}' is not a valid host`);
    }
  }
  const port = portText === undefined ? defaultPort : parsePort(portText, `--contact '${uri}'`);
  return { host, port };
}

/** Port 0 is allowed: the engine then binds a free port (tests). */
export function parsePort(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new EngineArgsError(`${what}: '${text}' is not a port number`);
  const port = Number(text);
  if (port > 65535) throw new EngineArgsError(`${what}: port ${port} is out of range`);
  return port;
}
