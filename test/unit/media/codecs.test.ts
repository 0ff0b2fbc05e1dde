import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  alawToLinear,
  type Codec,
  createCodec,
  G722Codec,
  G722Decoder,
  G722Encoder,
  linearToAlaw,
  linearToUlaw,
  OpusCodec,
  PcmaCodec,
  PcmuCodec,
  ulawToLinear,
} from '../../../src/media/codecs/index.js';
import { analyseTone, ToneGenerator } from '../../support/tone.js';
import { g722TestSignal } from './g722TestSignal.js';

/** Pushes `seconds` of a tone through encode → decode, frame by frame, and returns the decoded PCM. */
function roundTrip(codec: Codec, frequencyHz: number, amplitude: number, seconds: number): Int16Array {
  const tone = new ToneGenerator({ frequencyHz, sampleRate: codec.sampleRate, amplitude });
  const frame = codec.samplesPerFrame * codec.channels;
  const frames = Math.round((seconds * 1000) / 20);
  const out = new Int16Array(frames * frame);
  for (let i = 0; i < frames; i++) {
    const mono = tone.next(codec.samplesPerFrame);
    let pcm = mono;
    if (codec.channels === 2) {
      pcm = new Int16Array(frame);
      for (let s = 0; s < mono.length; s++) {
        pcm[2 * s] = mono[s] as number;
        pcm[2 * s + 1] = mono[s] as number;
      }
    }
    const decoded = codec.decode(codec.encode(pcm));
    expect(decoded.length).toBe(frame);
    out.set(decoded, i * frame);
  }
  return out;
}

function leftChannel(pcm: Int16Array): Int16Array {
  const out = new Int16Array(pcm.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = pcm[2 * i] as number;
  return out;
}

const expectedDbfs = (amplitude: number) => 20 * Math.log10(amplitude / Math.SQRT2);

describe('G.711', () => {
  it('matches reference values of ITU-T G.711', () => {
    // µ-law: 0xFF and 0x7F are ±0, 0x00/0x80 are the extremes ±32124.
    expect(ulawToLinear(0xff)).toBe(0);
    expect(ulawToLinear(0x7f)).toBe(0);
    expect(ulawToLinear(0x00)).toBe(-32124);
    expect(ulawToLinear(0x80)).toBe(32124);
    expect(ulawToLinear(0xfe)).toBe(8); // smallest non-zero step
    expect(ulawToLinear(0xef)).toBe(132); // first code of segment 1
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToUlaw(-1)).toBe(0x7f);
    expect(linearToUlaw(32767)).toBe(0x80);
    expect(linearToUlaw(-32768)).toBe(0x00);
    expect(linearToUlaw(1000)).toBe(0xce);
    // A-law: 0xD5/0x55 are ±8, 0xAA/0x2A the extremes ±32256.
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x55)).toBe(-8);
    expect(alawToLinear(0xaa)).toBe(32256);
    expect(alawToLinear(0x2a)).toBe(-32256);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
    expect(linearToAlaw(1000)).toBe(0xfa);
  });

  it('decodes every code to a value that encodes back to the same code', () => {
    for (let code = 0; code < 256; code++) {
      if (code !== 0x7f) expect(linearToUlaw(ulawToLinear(code))).toBe(code); // 0x7F is -0 → +0 (0xFF)
      expect(linearToAlaw(alawToLinear(code))).toBe(code);
    }
  });

  it('keeps quantisation error within half a step', () => {
    for (let sample = -32768; sample < 32768; sample += 13) {
      const u = ulawToLinear(linearToUlaw(sample));
      const a = alawToLinear(linearToAlaw(sample));
      expect(Math.abs(u - Math.max(-32124, Math.min(32124, sample)))).toBeLessThanOrEqual(
        Math.max(8, Math.abs(sample) / 16),
      );
      expect(Math.abs(a - Math.max(-32256, Math.min(32256, sample)))).toBeLessThanOrEqual(
        Math.max(16, Math.abs(sample) / 16),
      );
    }
  });

  it.each([
    ['PCMU', new PcmuCodec()],
    ['PCMA', new PcmaCodec()],
  ])('%s round-trips a 1 kHz tone with its frequency and level', (_name, codec) => {
    expect(codec.clockRate).toBe(8000);
    expect(codec.ticksPerFrame).toBe(160);
    const decoded = roundTrip(codec, 1000, 0.5, 1);
    const analysis = analyseTone(decoded, 8000);
    expect(Math.abs(analysis.frequencyHz - 1000)).toBeLessThanOrEqual(2);
    expect(Math.abs(analysis.levelDbfs - expectedDbfs(0.5))).toBeLessThanOrEqual(1.5);
    expect(analysis.purity).toBeGreaterThan(0.95);
  });

  it('encodes into a reused buffer with one byte per sample', () => {
    const codec = new PcmuCodec();
    const first = codec.encode(new Int16Array(160));
    expect(first.length).toBe(160);
    expect(first.every((b) => b === 0xff)).toBe(true);
    const second = codec.encode(new Int16Array(160).fill(1000));
    expect(second.buffer).toBe(first.buffer);
  });
});

const sha256 = (bytes: Uint8Array | Int16Array) =>
  createHash('sha256')
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest('hex');

describe('G.722', () => {
  it('is bit-exact with the adpcm_g722 codec of FFmpeg 5.1 (an independent implementation) both ways', () => {
    // Expected digests: `ffmpeg -f s16le -ar 16000 -ac 1 -i signal.raw -c:a g722 -f g722 out.g722` and
    // its decode back to s16le, for the signal below. Equal bytes mean equal arithmetic throughout.
    const signal = g722TestSignal();
    const encoded = new Uint8Array(signal.length / 2);
    expect(new G722Encoder().encode(signal, encoded)).toBe(8000);
    expect(sha256(encoded)).toBe('475c8864dc9edc94b9619baaf39984bd6ca97584f2a4af5d83bf80af40599714');
    const decoded = new Int16Array(signal.length);
    expect(new G722Decoder().decode(encoded, decoded)).toBe(16000);
    expect(sha256(decoded)).toBe('7ec6830df03e711c6fff45514b590a235fe171d65ec438fbb7b8433d8d9fa42c');
  });

  it('round-trips a 1 kHz tone at 16 kHz with its frequency and level', () => {
    const codec = new G722Codec();
    expect(codec.clockRate).toBe(8000);
    expect(codec.sampleRate).toBe(16000);
    const decoded = roundTrip(codec, 1000, 0.5, 1.2).subarray(3200);
    const analysis = analyseTone(decoded, 16000);
    expect(Math.abs(analysis.frequencyHz - 1000)).toBeLessThanOrEqual(2);
    expect(Math.abs(analysis.levelDbfs - expectedDbfs(0.5))).toBeLessThanOrEqual(1.5);
    expect(analysis.purity).toBeGreaterThan(0.95);
  });

  it('carries wideband audio that G.711 cannot (a 6 kHz tone)', () => {
    const decoded = roundTrip(new G722Codec(), 6000, 0.3, 1.2).subarray(3200);
    const analysis = analyseTone(decoded, 16000, { minHz: 50, maxHz: 7800 });
    expect(Math.abs(analysis.frequencyHz - 6000)).toBeLessThanOrEqual(2);
    expect(Math.abs(analysis.levelDbfs - expectedDbfs(0.3))).toBeLessThanOrEqual(1.5);
  });

  it('encodes 20 ms into 160 bytes and decodes them into 320 samples', () => {
    const codec = new G722Codec();
    const payload = codec.encode(
      new ToneGenerator({ frequencyHz: 440, sampleRate: 16000, amplitude: 0.3 }).next(320),
    );
    expect(payload.length).toBe(160);
    expect(codec.decode(payload).length).toBe(320);
  });
});

describe('Opus', () => {
  it.each([1, 2] as const)('round-trips a 440 Hz tone at 48 kHz with %d channel(s)', (channels) => {
    const codec = new OpusCodec({ payloadType: 111, channels });
    try {
      const decoded = roundTrip(codec, 440, 0.5, 1.2);
      const mono = channels === 2 ? leftChannel(decoded) : decoded;
      const analysis = analyseTone(mono.subarray(9600), 48000);
      expect(Math.abs(analysis.frequencyHz - 440)).toBeLessThanOrEqual(2);
      expect(Math.abs(analysis.levelDbfs - expectedDbfs(0.5))).toBeLessThanOrEqual(1.5);
    } finally {
      codec.close();
    }
  });

  it('conceals a lost frame with one 20 ms frame that continues the tone', () => {
    const codec = new OpusCodec({ payloadType: 111, channels: 1 });
    roundTrip(codec, 440, 0.5, 0.5);
    const concealed = codec.conceal();
    expect(concealed.length).toBe(960);
    expect(Math.abs(analyseTone(concealed, 48000).frequencyHz - 440)).toBeLessThanOrEqual(30);
  });

  it('conceals exactly 20 ms even after 40 ms packets', () => {
    const codec = new OpusCodec({ payloadType: 111, channels: 1 });
    const tone = new ToneGenerator({ frequencyHz: 440, sampleRate: 48000, amplitude: 0.5 });
    for (let i = 0; i < 10; i++) expect(codec.decode(codec.encode(tone.next(1920))).length).toBe(1920);
    expect(codec.conceal().length).toBe(960);
  });

  it('conceals instead of throwing on a corrupt packet', () => {
    const codec = new OpusCodec({ payloadType: 111, channels: 1 });
    roundTrip(codec, 440, 0.5, 0.1);
    const out = codec.decode(Uint8Array.of(0xff, 0xff, 0xff));
    expect(out.length).toBe(960);
  });
});

describe('createCodec', () => {
  it('builds each negotiated codec with its payload type', () => {
    expect(createCodec('PCMU').payloadType).toBe(0);
    expect(createCodec('PCMA').payloadType).toBe(8);
    expect(createCodec('G722').payloadType).toBe(9);
    const opus = createCodec('opus', { payloadType: 96, channels: 2 });
    expect([opus.payloadType, opus.channels, opus.clockRate, opus.ticksPerFrame]).toEqual([
      96, 2, 48000, 960,
    ]);
  });
});

describe('waveform concealment (G.711, G.722)', () => {
  it('continues a voiced signal for a lost frame, then fades to silence after 60 ms', () => {
    const codec = new PcmuCodec();
    roundTrip(codec, 250, 0.5, 0.2);
    const first = Int16Array.from(codec.conceal());
    expect(first.length).toBe(160);
    expect(
      Math.abs(analyseTone(first, 8000, { minHz: 100, maxHz: 1000 }).frequencyHz - 250),
    ).toBeLessThanOrEqual(15);
    expect(analyseTone(first, 8000).levelDbfs).toBeGreaterThan(expectedDbfs(0.5) - 3);
    codec.conceal();
    codec.conceal();
    const fourth = codec.conceal();
    expect(fourth.every((s) => s === 0)).toBe(true);
  });

  it('blends back into the next good frame without a jump', () => {
    const codec = new PcmaCodec();
    const tone = new ToneGenerator({ frequencyHz: 200, sampleRate: 8000, amplitude: 0.5 });
    for (let i = 0; i < 10; i++) codec.decode(codec.encode(tone.next(160)));
    const concealed = Int16Array.from(codec.conceal());
    tone.next(160);
    const resumed = codec.decode(codec.encode(tone.next(160)));
    const jump = Math.abs((resumed[0] as number) - (concealed[159] as number));
    expect(jump).toBeLessThan(0.5 * 32767 * 0.3);
  });

  it('gives silence when nothing was decoded yet', () => {
    expect(new G722Codec().conceal().every((s) => s === 0)).toBe(true);
  });
});
