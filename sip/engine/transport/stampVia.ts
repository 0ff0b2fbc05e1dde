import type { SipRequest } from '../message/messageTypes.js';
import { formatVia, parseVia } from '../message/via.js';
import { normalizeAddress } from './addressUtils.js';

/**
 * RFC 3261 18.2.1 / RFC 3581 §4: note on the top Via where the request really came from, so
 * responses find their way back through NAT. Returns false when the top Via cannot be parsed.
 */
export function stampReceived(req: SipRequest, sourceAddress: string, sourcePort: number): boolean {
  const top = req.headers.get('Via');
  if (top === undefined) return false;
  let via: ReturnType<typeof parseVia>;
  try {
    via = parseVia(top);
  } catch {
    return false;
  }
  const address = normalizeAddress(sourceAddress);
  const wantsRport = via.params.has('rport');
  let changed = false;
  if (wantsRport || normalizeAddress(via.host).toLowerCase() !== address.toLowerCase()) {
    via.params.set('received', address);
    changed = true;
  }
  if (wantsRport) {
    via.params.set('rport', String(sourcePort));
    changed = true;
  }
  if (changed) req.headers.replaceFirst('Via', formatVia(via));
  return true;
}
