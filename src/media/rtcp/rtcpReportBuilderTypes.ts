import type { RtpSenderStats } from '../rtp/rtpSenderTypes.js';
import type { RtpReceiverStatistics } from './receiverStatistics.js';

export interface RtcpReportInput {
  /** Our SSRC (the RTP sender's). */
  ssrc: number;
  /** Our CNAME (RFC 3550 §6.5.1): required in every compound packet. */
  cname: string;
  /** Our sending side; omit (or pass no packets sent) to send an RR instead of an SR. */
  sender?: { stats: RtpSenderStats; rtpTimestampNow: number };
  /** The source we receive, if any. */
  receiver?: RtpReceiverStatistics;
  /** Wall-clock time for the SR's NTP timestamp. */
  nowUnixMs: number;
  /** Monotonic time, the clock the receiver statistics' arrivals use. */
  nowMs: number;
  /** Add a BYE (the call is ending). */
  bye?: { reason?: string };
}
