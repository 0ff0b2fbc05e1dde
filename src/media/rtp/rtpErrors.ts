/** A datagram that is not a well-formed RTP packet; receivers count it and drop it. */
export class RtpParseError extends Error {
  override readonly name = 'RtpParseError';
}
