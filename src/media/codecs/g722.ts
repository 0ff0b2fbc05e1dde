import { G722Band, saturate16 } from './g722Band.js';
import { IHN, IHP, ILN, ILP, Q6, QM2, QM4, QM6, QMF_COEFFICIENTS, RH2, RL42, WH, WL } from './g722Tables.js';

const LOW_NB_LIMIT = 18432;
const HIGH_NB_LIMIT = 22528;

/**
 * ITU-T G.722 encoder, 64 kbit/s mode (6 low-band bits + 2 high-band bits per byte): 16 kHz PCM in,
 * one byte per two samples out. The transmit QMF splits the band; each half is ADPCM-coded.
 */
export class G722Encoder {
  private readonly low = new G722Band(32);
  private readonly high = new G722Band(8);
  /** QMF delay line, 24 taps. */
  private readonly x = new Int32Array(24);

  /** Encodes pcm (even length) into out; returns the number of bytes written. */
  encode(pcm: Int16Array, out: Uint8Array): number {
    const x = this.x;
    const low = this.low;
    const high = this.high;
    let written = 0;
    for (let j = 0; j + 1 < pcm.length; j += 2) {
      // Transmit QMF: shift two samples in, keep every other filter output.
      for (let i = 0; i < 22; i++) x[i] = x[i + 2] as number;
      x[22] = pcm[j] as number;
      x[23] = pcm[j + 1] as number;
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += (x[2 * i] as number) * (QMF_COEFFICIENTS[i] as number);
        sumEven += (x[2 * i + 1] as number) * (QMF_COEFFICIENTS[11 - i] as number);
      }
      // >> 14: the QMF's DC gain of 4096, the sum of two filters, and the 15-bit codec input.
      const xLow = (sumEven + sumOdd) >> 14;
      const xHigh = (sumEven - sumOdd) >> 14;

      // Low band: SUBTRA, QUANTL
      const el = saturate16(xLow - low.s);
      const magnitude = el >= 0 ? el : -(el + 1) | 0;
      let interval = 1;
      for (; interval < 30; interval++) {
        if (magnitude < ((Q6[interval] as number) * low.det) >> 12) break;
      }
      const ilow = el < 0 ? (ILN[interval] as number) : (ILP[interval] as number);
      // INVQAL (4-bit reconstruction drives the predictor), LOGSCL, SCALEL, block 4
      const ril = ilow >> 2;
      const dlow = (low.det * (QM4[ril] as number)) >> 15;
      low.adaptScale(WL[RL42[ril] as number] as number, LOW_NB_LIMIT, 8);
      low.update(dlow);

      // High band: SUBTRA, QUANTH
      const eh = saturate16(xHigh - high.s);
      const highMagnitude = eh >= 0 ? eh : -(eh + 1) | 0;
      const mih = highMagnitude >= (564 * high.det) >> 12 ? 2 : 1;
      const ihigh = eh < 0 ? (IHN[mih] as number) : (IHP[mih] as number);
      const dhigh = (high.det * (QM2[ihigh] as number)) >> 15;
      high.adaptScale(WH[RH2[ihigh] as number] as number, HIGH_NB_LIMIT, 10);
      high.update(dhigh);

      out[written++] = (ihigh << 6) | ilow;
    }
    return written;
  }
}

/** ITU-T G.722 decoder, 64 kbit/s mode: one byte in, two 16 kHz samples out. */
export class G722Decoder {
  private readonly low = new G722Band(32);
  private readonly high = new G722Band(8);
  private readonly x = new Int32Array(24);

  /** Decodes codes into out (2 samples per byte); returns the number of samples written. */
  decode(codes: Uint8Array, out: Int16Array): number {
    const x = this.x;
    const low = this.low;
    const high = this.high;
    let written = 0;
    for (let j = 0; j < codes.length; j++) {
      const code = codes[j] as number;
      const ilow = code & 0x3f;
      const ihigh = (code >> 6) & 0x03;

      // Low band: INVQBL (6-bit), RECONS, LIMIT
      let rlow = low.s + ((low.det * (QM6[ilow] as number)) >> 15);
      if (rlow > 16383) rlow = 16383;
      else if (rlow < -16384) rlow = -16384;
      // INVQAL (4-bit) drives the predictor exactly as in the encoder.
      const ril = ilow >> 2;
      const dlow = (low.det * (QM4[ril] as number)) >> 15;
      low.adaptScale(WL[RL42[ril] as number] as number, LOW_NB_LIMIT, 8);
      low.update(dlow);

      // High band: INVQAH, RECONS, LIMIT
      const dhigh = (high.det * (QM2[ihigh] as number)) >> 15;
      let rhigh = dhigh + high.s;
      if (rhigh > 16383) rhigh = 16383;
      else if (rhigh < -16384) rhigh = -16384;
      high.adaptScale(WH[RH2[ihigh] as number] as number, HIGH_NB_LIMIT, 10);
      high.update(dhigh);

      // Receive QMF: two output samples per code.
      for (let i = 0; i < 22; i++) x[i] = x[i + 2] as number;
      x[22] = rlow + rhigh;
      x[23] = rlow - rhigh;
      let out1 = 0;
      let out2 = 0;
      for (let i = 0; i < 12; i++) {
        out2 += (x[2 * i] as number) * (QMF_COEFFICIENTS[i] as number);
        out1 += (x[2 * i + 1] as number) * (QMF_COEFFICIENTS[11 - i] as number);
      }
      out[written++] = saturate16(out1 >> 11);
      out[written++] = saturate16(out2 >> 11);
    }
    return written;
  }
}
