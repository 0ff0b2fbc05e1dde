/** One RTP header extension block (RFC 3550 §5.3.1): a profile word and its data, as a view. */
export interface RtpHeaderExtension {
  profile: number;
  /** A view into the packet; 32-bit words, `length` counts bytes. */
  data: Uint8Array;
}

/**
 * A parsed RTP packet. Every Uint8Array is a view into the buffer that was parsed: no bytes are
 * copied, so a receiver that keeps a packet past the next datagram must copy what it keeps.
 */
export interface RtpPacket {
  version: 2;
  padding: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  /** Unsigned 32-bit. */
  timestamp: number;
  /** Unsigned 32-bit. */
  ssrc: number;
  /** Unsigned 32-bit values; empty (a shared frozen array) when CC is 0. */
  csrcs: readonly number[];
  extension: RtpHeaderExtension | undefined;
  /** Payload without padding. */
  payload: Uint8Array;
  /** Bytes of padding that followed the payload (0 without the P bit). */
  paddingLength: number;
}

/** What a sender supplies to write a packet; fields absent from it take their RFC defaults. */
export interface RtpPacketInit {
  marker?: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs?: readonly number[];
  extension?: RtpHeaderExtension;
  payload: Uint8Array;
  /** Pad the packet to this many extra bytes (1–255); the last byte carries the count. */
  paddingLength?: number;
}
