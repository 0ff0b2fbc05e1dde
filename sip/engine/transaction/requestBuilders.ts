import { randomBytes } from 'node:crypto';
import { parseCSeq } from '../message/cseq.js';
import type { SipRequest, SipResponse } from '../message/messageTypes.js';
import { SipHeaders } from '../message/sipHeaders.js';
import { BRANCH_MAGIC_COOKIE } from '../message/via.js';

/** A fresh RFC 3261 branch: the magic cookie plus enough randomness to be unique in time and space. */
export function generateBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomBytes(10).toString('hex')}`;
}

/**
 * ACK for a non-2xx final response (RFC 3261 17.1.1.3): same Request-URI, Call-ID, From, CSeq
 * number and top Via as the INVITE, To from the response, and the INVITE's Route set.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new SipHeaders();
  const via = invite.headers.get('Via');
  if (via !== undefined) headers.append('Via', via);
  headers.append('Max-Forwards', '70');
  headers.append('From', invite.headers.get('From') ?? '');
  headers.append('To', response.headers.get('To') ?? invite.headers.get('To') ?? '');
  headers.append('Call-ID', invite.headers.get('Call-ID') ?? '');
  headers.append('CSeq', `${parseCSeq(invite.headers.get('CSeq') ?? '').seq} ACK`);
  for (const route of invite.headers.lineValues('Route')) headers.append('Route', route);
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: Buffer.alloc(0) };
}

/**
 * CANCEL for a pending INVITE (RFC 3261 9.1): same Request-URI, Call-ID, To, From, CSeq number
 * and top Via (so it reaches the same server transaction), and the INVITE's Route set.
 */
export function buildCancel(invite: SipRequest, extraHeaders: Array<[string, string]> = []): SipRequest {
  const headers = new SipHeaders();
  const via = invite.headers.get('Via');
  if (via !== undefined) headers.append('Via', via);
  headers.append('Max-Forwards', '70');
  headers.append('From', invite.headers.get('From') ?? '');
  headers.append('To', invite.headers.get('To') ?? '');
  headers.append('Call-ID', invite.headers.get('Call-ID') ?? '');
  headers.append('CSeq', `${parseCSeq(invite.headers.get('CSeq') ?? '').seq} CANCEL`);
  for (const route of invite.headers.lineValues('Route')) headers.append('Route', route);
  for (const [name, value] of extraHeaders) headers.append(name, value);
  return { kind: 'request', method: 'CANCEL', uri: invite.uri, headers, body: Buffer.alloc(0) };
}
