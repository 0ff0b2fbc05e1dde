import { parseCSeq } from '../message/cseq.js';
import type { SipMessage, SipRequest } from '../message/messageTypes.js';
import { parseNameAddr } from '../message/nameAddr.js';
import { BRANCH_MAGIC_COOKIE, parseVia, viaBranch, viaSentBy } from '../message/via.js';

function topVia(msg: SipMessage) {
  const raw = msg.headers.get('Via');
  return raw === undefined ? undefined : parseVia(raw);
}

/**
 * Key of the server transaction a request belongs to (RFC 3261 17.2.3): branch + sent-by +
 * method, where an ACK looks for its INVITE. CANCEL keeps its own method, so it gets its own
 * transaction; `inviteKeyForCancel` finds the INVITE it targets. Requests from RFC 2543 peers
 * (no magic cookie) fall back to the dialog identifiers of 17.2.3's last paragraph.
 */
export function serverKey(req: SipRequest, methodOverride?: string): string | undefined {
  let via: ReturnType<typeof parseVia> | undefined;
  try {
    via = topVia(req);
  } catch {
    return undefined;
  }
  if (!via) return undefined;
  const method = methodOverride ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  const branch = viaBranch(via);
  if (branch?.startsWith(BRANCH_MAGIC_COOKIE)) return `s|${branch}|${viaSentBy(via)}|${method}`;
  let fromTag = '';
  let seq = '';
  try {
    fromTag = parseNameAddr(req.headers.get('From') ?? '').params.get('tag') ?? '';
    seq = String(parseCSeq(req.headers.get('CSeq') ?? '').seq);
  } catch {
    return undefined;
  }
  return `s2543|${req.headers.get('Call-ID')}|${fromTag}|${seq}|${viaSentBy(via)}|${branch ?? ''}|${method}`;
}

export function inviteKeyForCancel(cancel: SipRequest): string | undefined {
  return serverKey(cancel, 'INVITE');
}

/** Key of the client transaction a response belongs to (RFC 3261 17.1.3): branch + CSeq method. */
export function clientKey(msg: SipMessage): string | undefined {
  try {
    const via = topVia(msg);
    const branch = via ? viaBranch(via) : undefined;
    if (!branch) return undefined;
    const method = parseCSeq(msg.headers.get('CSeq') ?? '').method;
    return `c|${branch}|${method === 'ACK' ? 'INVITE' : method}`;
  } catch {
    return undefined;
  }
}
