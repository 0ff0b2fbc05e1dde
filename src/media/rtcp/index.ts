export { CODEC_IMPAIRMENTS, estimateMos, rToMos } from './eModel.js';
export type { CodecImpairment, MosEstimate, MosInput } from './eModelTypes.js';
export { type NtpTimestamp, ntpFromUnixMs, ntpMiddle32 } from './ntpTime.js';
export { RtpReceiverStatistics, roundTripTimeMs } from './receiverStatistics.js';
export type { ReceiverStatisticsOptions, ReceiverStatisticsSnapshot } from './receiverStatisticsTypes.js';
export { RtcpParseError } from './rtcpErrors.js';
export { buildRtcpCompound, parseRtcpCompound } from './rtcpPacket.js';
export { buildRtcpReport, nextRtcpIntervalMs } from './rtcpReportBuilder.js';
export type { RtcpReportInput } from './rtcpReportBuilderTypes.js';
export {
  type Goodbye,
  type OtherRtcpPacket,
  type ReceiverReport,
  type ReportBlock,
  RTCP_APP,
  RTCP_BYE,
  RTCP_RR,
  RTCP_SDES,
  RTCP_SR,
  type RtcpPacket,
  SDES_CNAME,
  type SdesChunk,
  type SdesItem,
  type SenderReport,
  type SourceDescription,
} from './rtcpTypes.js';
