export interface ResamplerOptions {
  inputRate: number;
  outputRate: number;
  /** Interleaved channels (each filtered independently). */
  channels?: number;
  /** FIR taps per polyphase branch; more taps, a sharper anti-alias filter. */
  tapsPerPhase?: number;
}
