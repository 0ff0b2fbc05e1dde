/**
 * G.711 µ-law and A-law (ITU-T G.711), table driven: the encode tables cover every 16-bit sample
 * (64 KiB each) so encoding is one lookup per sample. The tables are built once when the module is
 * loaded and never written afterwards.
 */

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

function encodeUlawSample(sample: number): number {
  let pcm = sample;
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeUlawSample(code: number): number {
  const u = ~code & 0xff;
  const magnitude = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? ULAW_BIAS - magnitude : magnitude - ULAW_BIAS;
}

const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function encodeAlawSample(sample: number): number {
  // A-law works on 13 bits; the sign is coded with the 0x55 even-bit inversion of G.711.
  let pcm = sample >> 3;
  let mask: number;
  if (pcm >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  let segment = 0;
  while (segment < 8 && pcm > (ALAW_SEGMENT_ENDS[segment] as number)) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  let code = segment << 4;
  code |= segment < 2 ? (pcm >> 1) & 0x0f : (pcm >> segment) & 0x0f;
  return code ^ mask;
}

function decodeAlawSample(code: number): number {
  const a = code ^ 0x55;
  let magnitude = (a & 0x0f) << 4;
  const segment = (a & 0x70) >> 4;
  if (segment === 0) magnitude += 8;
  else if (segment === 1) magnitude += 0x108;
  else magnitude = (magnitude + 0x108) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function buildEncodeTable(encode: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encode((i << 16) >> 16);
  return table;
}

function buildDecodeTable(decode: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i++) table[i] = decode(i);
  return table;
}

/** Indexed by the sample's 16 bits as unsigned (sample & 0xffff). */
export const ULAW_ENCODE_TABLE: Readonly<Uint8Array> = buildEncodeTable(encodeUlawSample);
export const ULAW_DECODE_TABLE: Readonly<Int16Array> = buildDecodeTable(decodeUlawSample);
export const ALAW_ENCODE_TABLE: Readonly<Uint8Array> = buildEncodeTable(encodeAlawSample);
export const ALAW_DECODE_TABLE: Readonly<Int16Array> = buildDecodeTable(decodeAlawSample);

/** Encodes `pcm` into `out` (same length) with one table lookup per sample. */
export function encodeG711(table: Readonly<Uint8Array>, pcm: Int16Array, out: Uint8Array): void {
  for (let i = 0; i < pcm.length; i++) out[i] = table[(pcm[i] as number) & 0xffff] as number;
}

export function decodeG711(table: Readonly<Int16Array>, codes: Uint8Array, out: Int16Array): void {
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i] as number] as number;
}

export function linearToUlaw(sample: number): number {
  return ULAW_ENCODE_TABLE[sample & 0xffff] as number;
}

export function ulawToLinear(code: number): number {
  return ULAW_DECODE_TABLE[code & 0xff] as number;
}

export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE_TABLE[sample & 0xffff] as number;
}

export function alawToLinear(code: number): number {
  return ALAW_DECODE_TABLE[code & 0xff] as number;
}
