/** DTMF digits as LiveKit SIP DTMF and SIP INFO carry them. */
export type DtmfDigit =
  | '0'
  | '1'
  | '2'
  | '3'
  | '4'
  | '5'
  | '6'
  | '7'
  | '8'
  | '9'
  | '*'
  | '#'
  | 'A'
  | 'B'
  | 'C'
  | 'D';

/** One RFC 4733 telephone-event payload (§2.3). */
export interface TelephoneEvent {
  /** Event code: 0–9, 10 '*', 11 '#', 12–15 A–D, 16 flash; others are tones we ignore. */
  event: number;
  /** The E bit: this packet ends the event. */
  end: boolean;
  /** Power level in −dBm0 (0–63). */
  volume: number;
  /** Duration so far, in RTP timestamp units. */
  duration: number;
}

/** A digit received once, however many packets carried it. */
export interface ReceivedDtmf {
  digit: DtmfDigit;
  /** Event code (16 = flash has no digit and is not reported). */
  event: number;
  /** RTP timestamp of the event (its start), the key retransmissions share. */
  timestamp: number;
  durationMs: number;
  /** Why it was reported: its end packet, its first packet (emit on start), or it went silent. */
  reason: 'end' | 'start' | 'timeout' | 'superseded';
}

export interface DtmfReceiverOptions {
  /** Clock rate of the negotiated telephone-event payload type (8000, or 48000 with Opus). */
  clockRate: number;
  /**
   * `end` (default) reports a digit when its end packet comes, with its full duration; `start`
   * reports at its first packet for the lowest latency, with the duration that packet carries.
   */
  emitOn?: 'end' | 'start';
  /** An event with no packet for this long is reported as if ended (its end packets were lost). */
  timeoutMs?: number;
}

export interface DtmfSenderOptions {
  /** Clock rate of the negotiated telephone-event payload type. */
  clockRate: number;
  /** Interval between event packets (the ptime), default 20 ms. */
  packetIntervalMs?: number;
  /** Power level in −dBm0, default 10. */
  volume?: number;
  /** Times the final packet is sent (RFC 4733 §2.5.1.4 recommends three). */
  endRepeats?: number;
}

/** One packet of an outgoing event; the caller sends it in the stream's sequence space. */
export interface OutgoingEventPacket {
  payload: Uint8Array;
  /** Set on the first packet of an event (RFC 4733 §2.5.1.3). */
  marker: boolean;
  /** The event's timestamp: the same for every packet of it. */
  timestamp: number;
  end: boolean;
}
