export interface RtpSenderOptions {
  ssrc: number;
  payloadType: number;
  /** RTP clock ticks per second of the media payload type (8000 for G.722, RFC 3551 §4.5.2). */
  clockRate: number;
  /** RTP timestamp ticks each frame advances (160 for 20 ms at 8 kHz, 960 for Opus). */
  ticksPerFrame: number;
  /** Random start values (RFC 3550 §5.1); injected so tests are deterministic. */
  initialSequenceNumber: number;
  initialTimestamp: number;
  /** Largest payload the sender writes; sizes its reusable packet buffer. */
  maxPayloadSize?: number;
}

export interface RtpSenderStats {
  packetsSent: number;
  /** Payload octets, as RTCP SR counts them (RFC 3550 §6.4.1). */
  octetsSent: number;
  /** RTP timestamp of the last packet sent, for RTCP SR. */
  lastTimestamp: number;
}
