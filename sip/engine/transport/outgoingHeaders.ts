import type { SipRequest } from '../message/messageTypes.js';
import { formatHostPort } from '../message/sipUri.js';
import type { TransportProtocol } from './transportTypes.js';

export interface SentBy {
  host: string;
  port: number;
}

/**
 * Puts our Via on top of an outgoing request, with sent-by from the listener the request leaves
 * on (TransportLayer.sentBy) and `rport` so NATed peers answer where the request came from.
 */
export function addTopVia(
  req: SipRequest,
  transport: TransportProtocol,
  sentBy: SentBy,
  branch: string,
): void {
  req.headers.prepend(
    'Via',
    `SIP/2.0/${transport.toUpperCase()} ${formatHostPort(sentBy.host, sentBy.port)};branch=${branch};rport`,
  );
}

/**
 * A Contact URI reaching this listener. TLS uses `sip:…;transport=tls` rather than `sips:`, since
 * a sips Contact obliges the peer to keep TLS end to end, which trunks often cannot promise.
 */
export function contactUri(sentBy: SentBy, transport: TransportProtocol, user?: string): string {
  const userPart = user ? `${user}@` : '';
  const param = transport === 'udp' ? '' : `;transport=${transport}`;
  return `sip:${userPart}${formatHostPort(sentBy.host, sentBy.port)}${param}`;
}
