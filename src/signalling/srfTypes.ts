/**
 * The parts of drachtio-srf's request and response objects the gateway uses, typed narrowly:
 * srf's own typings miss some of them (source_address, protocol) and allow too much elsewhere.
 */
export interface InboundRequest {
  method: string;
  uri: string;
  callId: string;
  source_address: string;
  source_port: number;
  /** 'udp' | 'tcp' | 'tls' | 'wss' as the SIP server saw it. */
  protocol: string;
  get(header: string): string | undefined;
  on(event: 'cancel', listener: () => void): void;
}

export interface InboundResponse {
  readonly finalResponseSent: boolean;
  send(status: number, reason?: string, options?: { headers?: Record<string, string> }): void;
}
