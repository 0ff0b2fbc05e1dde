import type { SipMessage } from '../message/messageTypes.js';
import type { SipParseError } from '../message/sipParseError.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

export interface ListenContact {
  transport: TransportProtocol;
  /** Address to bind; `0.0.0.0` / `::` bind every interface. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Host written into Via/Contact instead of the bound address (e.g. a public IP behind NAT). */
  advertisedHost?: string;
}

export interface BoundListener {
  transport: TransportProtocol;
  host: string;
  port: number;
  advertisedHost?: string;
}

/** Where an incoming message came from and which local socket received it. */
export interface MessageSource {
  transport: TransportProtocol;
  address: string;
  port: number;
  localAddress: string;
  localPort: number;
  /** Set for TCP/TLS: the connection to answer on (RFC 3261 18.2.2). */
  connectionId?: string;
}

export interface Destination {
  transport: TransportProtocol;
  address: string;
  port: number;
  /** Prefer this existing connection; if it is gone a new one is opened to address:port. */
  connectionId?: string;
  /** TLS server name to verify, when it is a host name rather than the address. */
  servername?: string;
}

export interface SendResult {
  /** The bytes exactly as written to the network. */
  data: Buffer;
  transport: TransportProtocol;
  localAddress: string;
  localPort: number;
  connectionId?: string;
}

export interface TlsServerOptions {
  key: string | Buffer;
  cert: string | Buffer;
  /** Intermediate chain, appended to cert when given separately. */
  chain?: string | Buffer;
}

export interface TlsClientOptions {
  /** Verify the peer's certificate on outgoing TLS connections (default true). */
  rejectUnauthorized?: boolean;
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface TransportLayerOptions {
  tls?: TlsServerOptions;
  tlsClient?: TlsClientOptions;
  /** Connections without traffic for this long are closed (default 5 minutes). */
  idleTimeoutMs?: number;
  /** How often idle connections are looked for (default idleTimeoutMs / 4, at least 1 s). */
  idleSweepMs?: number;
  connectTimeoutMs?: number;
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
}

export interface ConnectionCounts {
  tcp: number;
  tls: number;
  total: number;
}

export interface TransportEvents {
  message: [message: SipMessage, source: MessageSource];
  /** A message that could not be parsed or framed; `raw` is undefined when framing failed. */
  parseError: [error: SipParseError, raw: Buffer | undefined, source: MessageSource];
  connectionOpened: [info: ConnectionInfo];
  connectionClosed: [info: ConnectionInfo];
  /**
   * Socket-level failure that did not belong to any particular send. Not named `error`, so an
   * unobserved failure cannot throw out of an EventEmitter and take the process down.
   */
  socketError: [error: Error];
}

export interface ConnectionInfo {
  id: string;
  transport: 'tcp' | 'tls';
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  direction: 'inbound' | 'outbound';
}
