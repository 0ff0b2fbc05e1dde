import { ILB } from './g722Tables.js';

export function saturate16(value: number): number {
  if (value > 32767) return 32767;
  if (value < -32768) return -32768;
  return value;
}

/**
 * The adaptive predictor and scale-factor state of one G.722 sub-band (low or high), shared by
 * the encoder and decoder so both track the same reconstructed signal. Block numbers refer to
 * ITU-T G.722 §3 and §4.
 */
export class G722Band {
  /** Predicted signal (PREDIC) and its pole/zero parts. */
  s = 0;
  sp = 0;
  sz = 0;
  /** Reconstructed signal history r[0..2], partial reconstruction p[0..2]. */
  readonly r = new Int32Array(3);
  readonly p = new Int32Array(3);
  /** Pole coefficients a[1..2] and their updates. */
  readonly a = new Int32Array(3);
  readonly ap = new Int32Array(3);
  /** Zero coefficients b[1..6], their updates, and the difference history d[0..6]. */
  readonly b = new Int32Array(7);
  readonly bp = new Int32Array(7);
  readonly d = new Int32Array(7);
  /** Log scale factor and the linear scale factor (quantiser step). */
  nb = 0;
  det: number;

  constructor(initialDet: number) {
    this.det = initialDet;
  }

  /** LOGSCL/LOGSCH then SCALEL/SCALEH: adapt the step size from the quantised difference. */
  adaptScale(multiplier: number, nbLimit: number, shiftBase: number): void {
    let nb = ((this.nb * 127) >> 7) + multiplier;
    if (nb < 0) nb = 0;
    else if (nb > nbLimit) nb = nbLimit;
    this.nb = nb;
    const index = (nb >> 6) & 31;
    const shift = shiftBase - (nb >> 11);
    const base = ILB[index] as number;
    const wd3 = shift < 0 ? base << -shift : base >> shift;
    this.det = wd3 << 2;
  }

  /** Block 4: reconstruct, update the pole and zero predictors, and predict the next sample. */
  update(dx: number): void {
    const { r, p, a, ap, b, bp, d } = this;
    // RECONS, PARREC
    d[0] = dx;
    r[0] = saturate16(this.s + dx);
    p[0] = saturate16(this.sz + dx);

    // UPPOL2
    const sg0 = (p[0] as number) >> 15;
    const sg1 = (p[1] as number) >> 15;
    const sg2 = (p[2] as number) >> 15;
    const wd1 = saturate16((a[1] as number) << 2);
    // `| 0` keeps every value a small integer: a -0 from negating 0 would push V8 to doubles.
    let wd2 = sg0 === sg1 ? -wd1 | 0 : wd1;
    if (wd2 > 32767) wd2 = 32767;
    let wd3 = (wd2 >> 7) + (sg0 === sg2 ? 128 : -128);
    wd3 += ((a[2] as number) * 32512) >> 15;
    if (wd3 > 12288) wd3 = 12288;
    else if (wd3 < -12288) wd3 = -12288;
    ap[2] = wd3;

    // UPPOL1
    const poleStep = sg0 === sg1 ? 192 : -192;
    let ap1 = saturate16(poleStep + (((a[1] as number) * 32640) >> 15));
    const limit = saturate16(15360 - (ap[2] as number));
    if (ap1 > limit) ap1 = limit;
    else if (ap1 < -limit) ap1 = -limit | 0;
    ap[1] = ap1;

    // UPZERO
    const zeroStep = dx === 0 ? 0 : 128;
    const sgd = dx >> 15;
    for (let i = 1; i < 7; i++) {
      const step = (d[i] as number) >> 15 === sgd ? zeroStep : -zeroStep | 0;
      bp[i] = saturate16(step + (((b[i] as number) * 32640) >> 15));
    }

    // DELAYA
    for (let i = 6; i > 0; i--) {
      d[i] = d[i - 1] as number;
      b[i] = bp[i] as number;
    }
    for (let i = 2; i > 0; i--) {
      r[i] = r[i - 1] as number;
      p[i] = p[i - 1] as number;
      a[i] = ap[i] as number;
    }

    // FILTEP
    const r1 = saturate16((r[1] as number) * 2);
    const r2 = saturate16((r[2] as number) * 2);
    this.sp = saturate16((((a[1] as number) * r1) >> 15) + (((a[2] as number) * r2) >> 15));

    // FILTEZ
    let sz = 0;
    for (let i = 6; i > 0; i--) {
      const twice = saturate16((d[i] as number) * 2);
      sz += ((b[i] as number) * twice) >> 15;
    }
    this.sz = saturate16(sz);

    // PREDIC
    this.s = saturate16(this.sp + this.sz);
  }
}
