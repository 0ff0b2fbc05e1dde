import type { SipRequest } from './messageTypes.js';
import { SipHeaders } from './sipHeaders.js';

export interface CreateRequestOptions {
  method: string;
  uri: string;
  /** Full header values, e.g. `<sip:a@b>;tag=x`. */
  from: string;
  to: string;
  callId: string;
  cseq: number;
  maxForwards?: number;
  contact?: string;
  /** Extra headers in order (Route, Content-Type, custom ones…). */
  headers?: Array<[name: string, value: string]>;
  body?: Buffer;
}

/**
 * A request with the headers RFC 3261 8.1.1 requires, except Via: that is added when the
 * transport is known (addTopVia), since its sent-by depends on the listener used.
 */
export function createRequest(opts: CreateRequestOptions): SipRequest {
  const headers = new SipHeaders()
    .append('Max-Forwards', String(opts.maxForwards ?? 70))
    .append('From', opts.from)
    .append('To', opts.to)
    .append('Call-ID', opts.callId)
    .append('CSeq', `${opts.cseq} ${opts.method}`);
  if (opts.contact !== undefined) headers.append('Contact', opts.contact);
  for (const [name, value] of opts.headers ?? []) headers.append(name, value);
  return { kind: 'request', method: opts.method, uri: opts.uri, headers, body: opts.body ?? Buffer.alloc(0) };
}
