/**
 * Failures of offer/answer, typed so the SIP layer picks the response without parsing messages:
 * sdp_malformed and sdp_not_acceptable become 488 Not Acceptable Here (RFC 3261 §13.3.1.3 asks
 * for 488 when the offer cannot be accepted), sdp_state is an exchange out of order: an offer
 * arriving while ours is outstanding is glare, answered 491 Request Pending (RFC 3261 §14.2).
 */
export type SdpErrorCode = 'sdp_malformed' | 'sdp_not_acceptable' | 'sdp_state';

export abstract class SdpError extends Error {
  abstract readonly code: SdpErrorCode;
  /** The SIP status a UAS answers an INVITE with when this error rejects the offer. */
  abstract readonly sipStatus: number;
}

/** The body is not SDP we can read (missing v=/o=/m=, a broken line, no connection address). */
export class SdpMalformedError extends SdpError {
  override readonly name = 'SdpMalformedError';
  readonly code = 'sdp_malformed';
  readonly sipStatus = 488;
}

/** Readable SDP whose media we cannot accept: no shared codec, no RTP audio, a rejected stream. */
export class SdpNotAcceptableError extends SdpError {
  override readonly name = 'SdpNotAcceptableError';
  readonly code = 'sdp_not_acceptable';
  readonly sipStatus = 488;
}

/** An offer while ours is outstanding (glare), an answer with no offer of ours, and the like. */
export class SdpStateError extends SdpError {
  override readonly name = 'SdpStateError';
  readonly code = 'sdp_state';
  readonly sipStatus = 491;
}
