import opusModule from '@discordjs/opus';
import type { Codec } from './codecTypes.js';

// The binding is CommonJS that picks its native file at run time, so only its default export exists.
const { OpusEncoder } = opusModule;

/** libopus CTL requests (opus_defines.h). */
const OPUS_SET_APPLICATION = 4000;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;

const SAMPLE_RATE = 48000;
const FRAME_SAMPLES = 960;
/** 120 ms, the longest Opus packet, per channel. */
const MAX_SAMPLES = 5760;

export interface OpusCodecOptions {
  payloadType: number;
  channels: 1 | 2;
  /** Target bitrate in bit/s; voice is clean at 24–32 kbit/s mono. */
  bitrate?: number;
  /** 0–10: CPU against quality. 5 halves the cost of 10 with little audible difference for voice. */
  complexity?: number;
  /** Expected loss (%) the encoder spends in-band FEC on (RFC 7587 useinbandfec). */
  expectedLossPercent?: number;
}

/**
 * Opus at 48 kHz, mono or stereo, through libopus (@discordjs/opus builds it from source).
 *
 * The encoder sends in-band FEC (LBRR) so a peer can rebuild a lost packet from the next one. The
 * binding does not expose the decoder's FEC flag, so for our receive side a lost packet is
 * concealed by libopus' own PLC: decoding a packet that is just a TOC byte with no frame data
 * makes libopus conceal exactly one frame of the TOC's duration (opus_decode_frame treats a
 * payload of 0–1 bytes as lost), which is the documented DTX/PLC path.
 */
export class OpusCodec implements Codec {
  readonly name = 'opus' as const;
  readonly clockRate = SAMPLE_RATE;
  readonly sampleRate = SAMPLE_RATE;
  readonly samplesPerFrame = FRAME_SAMPLES;
  readonly ticksPerFrame = FRAME_SAMPLES;
  readonly payloadType: number;
  readonly channels: 1 | 2;
  decodeErrors = 0;
  private readonly codec: InstanceType<typeof OpusEncoder>;
  private readonly decoded: Int16Array;
  private readonly silence: Int16Array;
  /** TOC byte of the last good packet, rewritten to one 20 ms frame: the PLC request. */
  private readonly plcPacket = Buffer.alloc(1);
  private havePacket = false;
  private closed = false;

  constructor(options: OpusCodecOptions) {
    this.payloadType = options.payloadType;
    this.channels = options.channels;
    this.codec = new OpusEncoder(SAMPLE_RATE, options.channels);
    this.codec.applyEncoderCTL(OPUS_SET_APPLICATION, OPUS_APPLICATION_VOIP);
    this.codec.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
    this.codec.applyEncoderCTL(OPUS_SET_COMPLEXITY, options.complexity ?? 5);
    this.codec.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
    this.codec.applyEncoderCTL(OPUS_SET_PACKET_LOSS_PERC, options.expectedLossPercent ?? 10);
    this.codec.setBitrate(options.bitrate ?? 32000 * options.channels);
    this.decoded = new Int16Array(MAX_SAMPLES * options.channels);
    this.silence = new Int16Array(FRAME_SAMPLES * options.channels);
  }

  /** Encodes one frame (2.5–60 ms of interleaved PCM); the binding returns a fresh Buffer. */
  encode(pcm: Int16Array): Uint8Array {
    // A Buffer view over the same memory: the binding reads PCM from it, nothing is copied.
    return this.codec.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  }

  /** Decodes a packet; a corrupt one is counted and concealed rather than thrown. */
  decode(payload: Uint8Array): Int16Array {
    if (payload.length === 0) return this.conceal();
    const input = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    let pcm: Buffer;
    try {
      pcm = this.codec.decode(input);
    } catch {
      this.decodeErrors++;
      return this.conceal();
    }
    this.plcPacket[0] = twentyMsToc(payload[0] as number);
    this.havePacket = true;
    return this.copyOut(pcm);
  }

  conceal(): Int16Array {
    if (!this.havePacket) return this.silence;
    try {
      return this.copyOut(this.codec.decode(this.plcPacket));
    } catch {
      return this.silence;
    }
  }

  close(): void {
    // The binding frees libopus state when the object is collected; drop our reference promptly.
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Deliberate copy: the binding hands back a fresh Buffer per call; we copy it into our reused
   * Int16Array so callers see the same ownership rule as the other codecs.
   */
  private copyOut(pcm: Buffer): Int16Array {
    const samples = Math.min(pcm.length >> 1, this.decoded.length);
    if ((pcm.byteOffset & 1) === 0) {
      this.decoded.set(new Int16Array(pcm.buffer, pcm.byteOffset, samples));
    } else {
      for (let i = 0; i < samples; i++) this.decoded[i] = pcm.readInt16LE(i * 2);
    }
    return this.decoded.subarray(0, samples);
  }
}

/**
 * The TOC byte (RFC 6716 §3.1) of the last packet, changed to describe a single 20 ms frame of the
 * same mode, bandwidth and channel count, so concealment always covers exactly one 20 ms tick.
 * Configs 0–11 (SILK) come in groups of 10/20/40/60 ms, 12–15 (hybrid) in pairs of 10/20 ms,
 * 16–31 (CELT) in groups of 2.5/5/10/20 ms.
 */
function twentyMsToc(toc: number): number {
  let config = toc >> 3;
  if (config < 12) config = (config & ~3) | 1;
  else if (config < 16) config |= 1;
  else config |= 3;
  return (config << 3) | (toc & 0x04);
}
