/** Codec names as SDP negotiation names them (rtpmap encoding names, our spelling). */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/**
 * One direction-pair of codec state for one call: an encoder for what we send and a decoder for
 * what we receive. Frames are 20 ms of interleaved 16-bit PCM at `sampleRate`.
 *
 * Ownership: `encode`, `decode` and `conceal` return views into buffers the codec reuses, valid
 * until the next call on the same codec. A caller that keeps the data copies it. This keeps the
 * per-packet path free of allocations for hundreds of calls per process.
 */
export interface Codec {
  readonly name: CodecName;
  /** Payload type negotiated for this call (dynamic for Opus). */
  readonly payloadType: number;
  /** RTP clock rate (8000 for G.722 by RFC 3551's historical error, 48000 for Opus). */
  readonly clockRate: number;
  /** Rate of the PCM that `encode` takes and `decode` returns. */
  readonly sampleRate: number;
  readonly channels: number;
  /** Samples per channel in one 20 ms frame at `sampleRate`. */
  readonly samplesPerFrame: number;
  /** RTP timestamp ticks in one 20 ms frame at `clockRate`. */
  readonly ticksPerFrame: number;
  /** Encodes whole 20 ms frames (a multiple of samplesPerFrame × channels samples). */
  encode(pcm: Int16Array): Uint8Array;
  /** Decodes one payload; the length of the result follows from the payload (ptime). */
  decode(payload: Uint8Array): Int16Array;
  /** One 20 ms frame standing in for a lost packet (packet loss concealment). */
  conceal(): Int16Array;
  /** Releases native resources; the codec is unusable afterwards. */
  close(): void;
}

export interface CodecOptions {
  payloadType?: number;
  /** Opus only: 1 or 2 (RFC 7587 `stereo=1`); the others are mono. */
  channels?: 1 | 2;
}
