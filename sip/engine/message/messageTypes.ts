import type { SipHeaders } from './sipHeaders.js';

export interface SipRequest {
  readonly kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export interface ParseOptions {
  /** Largest header section accepted, in bytes (start line included). */
  maxHeaderBytes?: number;
  /** Largest body accepted, in bytes. */
  maxBodyBytes?: number;
  /**
   * Datagram transports may omit Content-Length (the body is the rest of the datagram); stream
   * transports may not, since the length is the only frame boundary.
   */
  requireContentLength?: boolean;
  /**
   * Syntax only: skip the mandatory-header and cross-header checks, and allow a message without
   * the final blank line. For messages from drachtio applications, which leave Via, From, To,
   * CSeq and the like for the server to fill in.
   */
  partial?: boolean;
}

export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
