import type { CodecImpairment, MosEstimate, MosInput } from './eModelTypes.js';

/**
 * Codec table. G.711 with packet loss concealment: Ie 0, Bpl 25.1 (G.113 Appendix I, G.711 with
 * Appendix I PLC, random loss). G.722 and Opus are rated on the narrowband scale here (the
 * wideband E-model of G.107.1 has other constants): G.722 like G.711 with PLC, Opus with its
 * own PLC and FEC as robust as the best G.113 entries and a small Ie for its bitrate.
 */
export const CODEC_IMPAIRMENTS: Readonly<Record<'PCMU' | 'PCMA' | 'G722' | 'opus', CodecImpairment>> = {
  PCMU: { ie: 0, bpl: 25.1, codecDelayMs: 20 },
  PCMA: { ie: 0, bpl: 25.1, codecDelayMs: 20 },
  G722: { ie: 0, bpl: 25.1, codecDelayMs: 21.5 },
  opus: { ie: 2, bpl: 30, codecDelayMs: 26.5 },
};

/** R of an ideal narrowband connection with G.107's default values (R0 − Is + A = 93.2). */
const R_DEFAULT = 93.2;

/**
 * A simplified ITU-T G.107 E-model: every parameter at its default except delay and equipment.
 *
 *   R = 93.2 − Id − Ie,eff
 *   Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)        (Cole & Rosenbluth's fit of G.107's Id,
 *                                                          d = one-way delay incl. codec, ms)
 *   Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)  (G.107 §3.6, Ppl in %)
 *   MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶       (G.107 Annex B; 1 for R ≤ 0, 4.5 for R ≥ 100)
 *
 * G.711 without loss at low delay gives R ≈ 92.7, MOS ≈ 4.4; 5 % random loss gives MOS ≈ 3.9.
 */
export function estimateMos(input: MosInput): MosEstimate {
  const { impairment } = input;
  const delay = Math.max(0, input.oneWayDelayMs) + impairment.codecDelayMs;
  const id = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, input.packetLossPercent));
  const burstRatio = Math.max(1, input.burstRatio ?? 1);
  const ieEff = impairment.ie + ((95 - impairment.ie) * ppl) / (ppl / burstRatio + impairment.bpl);
  const r = Math.max(0, Math.min(100, R_DEFAULT - id - ieEff));
  return { r, mos: rToMos(r) };
}

/** G.107 Annex B: R to the conversational MOS. */
export function rToMos(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}
