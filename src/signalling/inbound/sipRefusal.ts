import type { InboundResponse } from '../srfTypes.js';

/**
 * Sends a final refusal with a Reason header (RFC 3326) that says why in words a SIP trace
 * shows, e.g. `Reason: SIP;cause=486;text="app reached maxConcurrentCalls"`.
 */
export function refuse(
  res: InboundResponse,
  status: number,
  why: string,
  headers: Record<string, string> = {},
): void {
  if (res.finalResponseSent) return;
  const text = why.replace(/["\\]/g, '');
  res.send(status, undefined, { headers: { Reason: `SIP;cause=${status};text="${text}"`, ...headers } });
}
