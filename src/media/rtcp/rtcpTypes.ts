/** RTCP packet types (RFC 3550 §12.1; 205–207 from RFC 4585 and RFC 3611, carried opaque). */
export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

/** One reception report block (RFC 3550 §6.4.1): how we hear one source, or how it hears us. */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, as an 8-bit fixed point number (0–255 = 0–~1). */
  fractionLost: number;
  /** Cumulative packets lost (signed 24-bit: duplicates can make it negative). */
  cumulativeLost: number;
  extendedHighestSequence: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from the source (0: none). */
  lastSenderReport: number;
  /** Delay since that SR, in units of 1/65536 s. */
  delaySinceLastSenderReport: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

/** SDES item types (RFC 3550 §6.5). */
export const SDES_CNAME = 1;

export interface SdesItem {
  type: number;
  text: string;
}

export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
}

export interface SourceDescription {
  type: 'sdes';
  chunks: SdesChunk[];
}

export interface Goodbye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** Any other packet (APP, feedback, XR): kept as bytes so a compound still parses. */
export interface OtherRtcpPacket {
  type: 'other';
  packetType: number;
  /** The 5-bit count/format field. */
  count: number;
  /** Bytes after the 4-byte header (padding excluded). */
  body: Uint8Array;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | OtherRtcpPacket;
