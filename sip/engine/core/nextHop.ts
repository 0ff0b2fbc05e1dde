import { parseNameAddr } from '../message/nameAddr.js';
import { parseSipUri } from '../message/sipUri.js';
import { defaultPortFor } from '../message/via.js';
import type { Destination, TransportProtocol } from '../transport/transportTypes.js';

const TRANSPORTS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls']);

/**
 * Where a request for `uriText` goes (RFC 3263 reduced to what the engine supports: no SRV/NAPTR
 * lookups, the host is used as is). The transport comes from the URI's transport param, `sips:`
 * means TLS, otherwise `fallback`. Throws on a URI that is not sip/sips.
 */
export function destinationForUri(uriText: string, fallback: TransportProtocol = 'udp'): Destination {
  const uri = parseSipUri(uriText);
  const param = uri.params.get('transport')?.toLowerCase();
  let transport: TransportProtocol =
    param !== undefined && TRANSPORTS.has(param) ? (param as TransportProtocol) : fallback;
  if (uri.scheme === 'sips') transport = 'tls';
  const maddr = uri.params.get('maddr');
  const address = maddr ?? uri.host;
  return { transport, address, port: uri.port ?? defaultPortFor(transport) };
}

/** The URI inside a name-addr or a bare URI (Route, Record-Route, Contact values). */
export function uriOf(value: string): string {
  return parseNameAddr(value).uri;
}

/**
 * Next hop of an in-dialog request (RFC 3261 12.2.1.1): the first Route when the route set is
 * loose-routing, else the remote target. Strict routers are not supported: the route set is
 * still sent, but to the first Route.
 */
export function inDialogNextHop(routeSet: readonly string[], remoteTarget: string): string {
  const first = routeSet[0];
  return first === undefined ? remoteTarget : uriOf(first);
}
