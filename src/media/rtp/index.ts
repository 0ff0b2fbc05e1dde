export { RtpParseError } from './rtpErrors.js';
export {
  looksLikeRtcp,
  parseRtpPacket,
  RTP_FIXED_HEADER_SIZE,
  RTP_VERSION,
  rtpHeaderSize,
  rtpPacketSize,
  serializeRtpPacket,
} from './rtpPacket.js';
export type { RtpHeaderExtension, RtpPacket, RtpPacketInit } from './rtpPacketTypes.js';
export { RtpSender } from './rtpSender.js';
export type { RtpSenderOptions, RtpSenderStats } from './rtpSenderTypes.js';
export { SequenceUnwrapper, TimestampUnwrapper, WrapUnwrapper } from './sequenceUnwrapper.js';
