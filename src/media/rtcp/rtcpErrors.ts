/** A datagram that is not a well-formed RTCP compound packet; counted and dropped by receivers. */
export class RtcpParseError extends Error {
  override readonly name = 'RtcpParseError';
}
