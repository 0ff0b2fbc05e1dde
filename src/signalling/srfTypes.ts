/**
 * The parts of drachtio-srf's request and response objects the gateway uses, typed narrowly:
 * srf's own typings miss some of them (source_address, protocol) and allow too much elsewhere.
 */
export interface InboundRequest {
  method: string;
  uri: string;
  /** The SIP server's id of this request's transaction. */
  stackTxnId: string;
  source_address: string;
  source_port: number;
  /** 'udp' | 'tcp' | 'tls' | 'wss' as the SIP server saw it. */
  protocol: string;
  /** The message body (SDP for an INVITE with an offer). */
  body: string;
  get(header: string): string | undefined;
  on(event: 'cancel', listener: () => void): void;
}

export interface InboundResponse {
  readonly finalResponseSent: boolean;
  send(status: number, reason?: string, options?: { headers?: Record<string, string>; body?: string }): void;
}

/** An established SIP dialog (srf's Dialog), as the gateway uses it. */
export interface SipDialog {
  readonly id: string;
  /** srf sets it false once the dialog has ended (a BYE came in or went out). */
  readonly connected?: boolean;
  on(event: 'destroy', listener: () => void): void;
  on(event: 'modify', listener: (req: InboundRequest & { body: string }, res: InboundResponse) => void): void;
  /** An in-dialog INFO or UPDATE (RFC 3311); the listener must answer it. */
  on(event: 'info' | 'update', listener: (req: InboundRequest, res: InboundResponse) => void): void;
  /** An in-dialog REFER or NOTIFY (call transfer, sipTransfer.ts); the listener must answer it. */
  on(event: 'refer' | 'notify', listener: (req: InboundRequest, res: InboundResponse) => void): void;
  /** Sends BYE; srf returns a promise, which callers may await or ignore. */
  destroy(): unknown;
  /**
   * Our side (srf's Dialog.local): its URI for Referred-By, its SDP and Contact for a session
   * refresh.
   */
  readonly local?: { uri?: string; sdp?: string; contact?: string };
  /**
   * Sends a request inside the dialog (REFER, NOTIFY, a session refresh's UPDATE or re-INVITE,
   * which srf ACKs); resolves with its final response.
   */
  request?(options: {
    method: string;
    headers?: Record<string, string>;
    body?: string;
  }): Promise<{ status: number; reason?: string; get?(header: string): string | undefined }>;
}
