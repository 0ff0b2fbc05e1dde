import type { Codec } from './codecTypes.js';
import { G722Decoder, G722Encoder } from './g722.js';
import { WaveformPlc } from './waveformPlc.js';

const SAMPLE_RATE = 16000;
const FRAME_SAMPLES = 320;
const MAX_BYTES = 8000 * 0.12;

/**
 * G.722 at 64 kbit/s, static payload type 9. The RTP clock is 8000 although the audio is 16 kHz
 * (RFC 3551 §4.5.2 keeps an error of the original spec), so a 20 ms frame is 160 ticks.
 */
export class G722Codec implements Codec {
  readonly name = 'G722' as const;
  readonly clockRate = 8000;
  readonly sampleRate = SAMPLE_RATE;
  readonly channels = 1;
  readonly samplesPerFrame = FRAME_SAMPLES;
  readonly ticksPerFrame = 160;
  private readonly encoder = new G722Encoder();
  private readonly decoder = new G722Decoder();
  private encoded = new Uint8Array(MAX_BYTES);
  private decoded = new Int16Array(MAX_BYTES * 2);
  private readonly plc = new WaveformPlc(SAMPLE_RATE, FRAME_SAMPLES);

  constructor(readonly payloadType = 9) {}

  encode(pcm: Int16Array): Uint8Array {
    const bytes = pcm.length >> 1;
    if (bytes > this.encoded.length) this.encoded = new Uint8Array(bytes);
    const written = this.encoder.encode(pcm, this.encoded);
    return this.encoded.subarray(0, written);
  }

  decode(payload: Uint8Array): Int16Array {
    if (payload.length * 2 > this.decoded.length) this.decoded = new Int16Array(payload.length * 2);
    const written = this.decoder.decode(payload, this.decoded);
    const out = this.decoded.subarray(0, written);
    this.plc.good(out);
    return out;
  }

  /**
   * Waveform substitution on the decoded signal. The ADPCM decoder state is left as it was, so
   * the next good packet decodes with a small mismatch that the predictor absorbs within a few ms.
   */
  conceal(): Int16Array {
    return this.plc.conceal();
  }

  close(): void {}
}
