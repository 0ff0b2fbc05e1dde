import { splitHeaderList } from '../splitHeaderList.js';
import type { InboundRequest } from '../srfTypes.js';

/** True when the INVITE's `header` (Require, Supported) lists the option tag (case-insensitive). */
export function invitesOption(req: Pick<InboundRequest, 'get'>, header: string, option: string): boolean {
  const value = req.get(header);
  if (value === undefined) return false;
  return splitHeaderList(value).some((token) => token.trim().toLowerCase() === option);
}

/**
 * Headers that make a provisional response reliable (RFC 3262), as drachtio-server reads them: an
 * app's 1xx with `Require: 100rel` is sent with an RSeq and retransmitted until the PRACK. Only a
 * caller that requires 100rel gets them: one that merely supports it gets plain provisionals, as
 * RFC 3262 allows, since a peer that advertises 100rel but never PRACKs (the RFC does not oblige
 * one to send Supported only when it will) would see its call fail 32 s later.
 */
export function reliableProvisionalHeaders(
  req: Pick<InboundRequest, 'get'>,
): Record<string, string> | undefined {
  return invitesOption(req, 'Require', '100rel') ? { Require: '100rel' } : undefined;
}
