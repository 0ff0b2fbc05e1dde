/**
 * Codec parameters of the E-model: equipment impairment Ie and packet-loss robustness Bpl
 * (ITU-T G.113 Appendix I values where the ITU gives them).
 */
export interface CodecImpairment {
  ie: number;
  bpl: number;
  /** Algorithmic delay: frame plus look-ahead, added to the one-way delay (ms). */
  codecDelayMs: number;
}

export interface MosInput {
  impairment: CodecImpairment;
  /** Packet loss seen by the decoder after the jitter buffer (late counts as lost), in %. */
  packetLossPercent: number;
  /** Mouth-to-ear one-way delay without the codec's own: network (RTT/2) + jitter buffer (ms). */
  oneWayDelayMs: number;
  /** BurstR: 1 for random loss, >1 when losses come in bursts. */
  burstRatio?: number;
}

export interface MosEstimate {
  /** Transmission rating factor R (0–100; 93.2 is the narrowband best). */
  r: number;
  /** Mean opinion score, conversational quality, 1–4.5. */
  mos: number;
}
