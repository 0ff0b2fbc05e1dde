/**
 * A deterministic 16 kHz test signal for G.722 conformance: a rising sweep (exercises both sub-bands
 * and the quantiser's scale adaptation), loud clipping bursts, noise and silence, 1 s long.
 */
export function g722TestSignal(): Int16Array {
  const rate = 16000;
  const out = new Int16Array(rate);
  let seed = 12345;
  let phase = 0;
  for (let i = 0; i < rate; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (100 + 7500 * t)) / rate;
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    const noise = ((seed % 2001) - 1000) * 4;
    let value = 12000 * Math.sin(phase) + (t > 0.5 ? noise : 0);
    if (t > 0.3 && t < 0.35) value *= 4; // clipped burst
    if (t > 0.8 && t < 0.85) value = 0; // silence
    out[i] = Math.max(-32768, Math.min(32767, Math.round(value)));
  }
  return out;
}
