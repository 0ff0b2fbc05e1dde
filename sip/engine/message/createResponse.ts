import type { SipRequest, SipResponse } from './messageTypes.js';
import { reasonPhrase } from './reasonPhrases.js';
import { SipHeaders } from './sipHeaders.js';

export interface CreateResponseOptions {
  reason?: string;
  /** Added to To when the request's To has no tag (every response but 100 should carry one). */
  toTag?: string;
  body?: Buffer;
}

/** A response with the headers RFC 3261 8.2.6.2 copies from the request. */
export function createResponse(
  req: SipRequest,
  status: number,
  opts: CreateResponseOptions = {},
): SipResponse {
  const headers = new SipHeaders();
  for (const via of req.headers.lineValues('Via')) headers.append('Via', via);
  const from = req.headers.get('From');
  if (from !== undefined) headers.append('From', from);
  let to = req.headers.get('To') ?? '';
  if (opts.toTag && status !== 100 && !/;\s*tag\s*=/i.test(to)) to = `${to};tag=${opts.toTag}`;
  headers.append('To', to);
  headers.append('Call-ID', req.headers.get('Call-ID') ?? '');
  headers.append('CSeq', req.headers.get('CSeq') ?? '');
  // RFC 3261 8.2.6.1: a 100 echoes Timestamp so the client can measure round-trip time.
  const timestamp = req.headers.get('Timestamp');
  if (status === 100 && timestamp !== undefined) headers.append('Timestamp', timestamp);
  return {
    kind: 'response',
    status,
    reason: opts.reason ?? reasonPhrase(status),
    headers,
    body: opts.body ?? Buffer.alloc(0),
  };
}
