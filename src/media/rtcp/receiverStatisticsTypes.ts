export interface ReceiverStatisticsOptions {
  /** RTP clock rate of the media payload type, for the jitter estimate. */
  clockRate: number;
  /**
   * Sequential packets needed before a source is valid (RFC 3550 A.1 MIN_SEQUENTIAL). 1 accepts the
   * first packet: the SSRC we expect comes from signalling and symmetric RTP latching already.
   */
  minSequential?: number;
}

export interface ReceiverStatisticsSnapshot {
  ssrc: number | undefined;
  received: number;
  expected: number;
  /** Cumulative lost (expected − received; duplicates can make it negative). */
  cumulativeLost: number;
  extendedHighestSequence: number;
  /** Interarrival jitter in timestamp units and in ms. */
  jitter: number;
  jitterMs: number;
  /** Fraction lost over the whole stream so far, 0–1. */
  lossRatio: number;
}
