import type { SipRequest } from '../message/messageTypes.js';
import { defaultPortFor, parseVia, viaReceived, viaRport } from '../message/via.js';
import type { Destination, MessageSource } from '../transport/transportTypes.js';

/**
 * Where responses to a request go (RFC 3261 18.2.2, RFC 3581 §4). Streams answer on the
 * connection the request came in on. UDP answers the source port when the client asked for
 * rport, otherwise the sent-by port at the received address. maddr is not honoured: multicast
 * requests are out of scope.
 */
export function responseDestination(req: SipRequest, source: MessageSource): Destination {
  let via: ReturnType<typeof parseVia> | undefined;
  try {
    const raw = req.headers.get('Via');
    via = raw === undefined ? undefined : parseVia(raw);
  } catch {
    via = undefined;
  }
  if (source.transport !== 'udp') {
    // The connection is the way back; should it be gone, RFC 3261 18.2.2 says to connect to the
    // received address at the sent-by port, which is where the client listens.
    const port = via ? (via.port ?? defaultPortFor(via.transport)) : source.port;
    const dest: Destination = { transport: source.transport, address: source.address, port };
    if (source.connectionId !== undefined) dest.connectionId = source.connectionId;
    return dest;
  }
  if (!via) return { transport: 'udp', address: source.address, port: source.port };
  const address = viaReceived(via) ?? source.address;
  const port =
    viaRport(via) ?? (via.params.has('rport') ? source.port : (via.port ?? defaultPortFor(via.transport)));
  return { transport: 'udp', address, port };
}
