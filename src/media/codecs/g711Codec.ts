import type { Codec, CodecName } from './codecTypes.js';
import {
  ALAW_DECODE_TABLE,
  ALAW_ENCODE_TABLE,
  decodeG711,
  encodeG711,
  ULAW_DECODE_TABLE,
  ULAW_ENCODE_TABLE,
} from './g711.js';
import { WaveformPlc } from './waveformPlc.js';

const SAMPLE_RATE = 8000;
const FRAME_SAMPLES = 160;
/** Largest payload decoded without growing buffers: 120 ms, the longest ptime we accept. */
const MAX_SAMPLES = SAMPLE_RATE * 0.12;

/** G.711 at 8 kHz: one byte per sample, so payload length is sample count. */
class G711Codec implements Codec {
  readonly clockRate = SAMPLE_RATE;
  readonly sampleRate = SAMPLE_RATE;
  readonly channels = 1;
  readonly samplesPerFrame = FRAME_SAMPLES;
  readonly ticksPerFrame = FRAME_SAMPLES;
  private encoded = new Uint8Array(MAX_SAMPLES);
  private decoded = new Int16Array(MAX_SAMPLES);
  private readonly plc = new WaveformPlc(SAMPLE_RATE, FRAME_SAMPLES);

  constructor(
    readonly name: CodecName,
    readonly payloadType: number,
    private readonly encodeTable: Readonly<Uint8Array>,
    private readonly decodeTable: Readonly<Int16Array>,
  ) {}

  encode(pcm: Int16Array): Uint8Array {
    if (pcm.length > this.encoded.length) this.encoded = new Uint8Array(pcm.length);
    encodeG711(this.encodeTable, pcm, this.encoded);
    return this.encoded.subarray(0, pcm.length);
  }

  decode(payload: Uint8Array): Int16Array {
    if (payload.length > this.decoded.length) this.decoded = new Int16Array(payload.length);
    const out = this.decoded.subarray(0, payload.length);
    decodeG711(this.decodeTable, payload, out);
    this.plc.good(out);
    return out;
  }

  conceal(): Int16Array {
    return this.plc.conceal();
  }

  close(): void {}
}

/** G.711 µ-law, static payload type 0 (RFC 3551). */
export class PcmuCodec extends G711Codec {
  constructor(payloadType = 0) {
    super('PCMU', payloadType, ULAW_ENCODE_TABLE, ULAW_DECODE_TABLE);
  }
}

/** G.711 A-law, static payload type 8 (RFC 3551). */
export class PcmaCodec extends G711Codec {
  constructor(payloadType = 8) {
    super('PCMA', payloadType, ALAW_ENCODE_TABLE, ALAW_DECODE_TABLE);
  }
}
