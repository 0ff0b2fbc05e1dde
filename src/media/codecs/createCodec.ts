import type { Codec, CodecName } from './codecTypes.js';
import { PcmaCodec, PcmuCodec } from './g711Codec.js';
import { G722Codec } from './g722Codec.js';
import { OpusCodec } from './opusCodec.js';

export interface CreateCodecOptions {
  payloadType?: number;
  /** Opus only. */
  channels?: 1 | 2;
  /** Opus only. */
  bitrate?: number;
  /** Opus only. */
  complexity?: number;
}

/** Default payload types: static from RFC 3551, 111 for Opus as browsers offer it. */
const DEFAULT_PAYLOAD_TYPES: Readonly<Record<CodecName, number>> = { PCMU: 0, PCMA: 8, G722: 9, opus: 111 };

/** Builds the codec state of one call for a negotiated codec. */
export function createCodec(name: CodecName, options: CreateCodecOptions = {}): Codec {
  const payloadType = options.payloadType ?? DEFAULT_PAYLOAD_TYPES[name];
  switch (name) {
    case 'PCMU':
      return new PcmuCodec(payloadType);
    case 'PCMA':
      return new PcmaCodec(payloadType);
    case 'G722':
      return new G722Codec(payloadType);
    case 'opus': {
      const opusOptions: ConstructorParameters<typeof OpusCodec>[0] = {
        payloadType,
        channels: options.channels ?? 1,
      };
      if (options.bitrate !== undefined) opusOptions.bitrate = options.bitrate;
      if (options.complexity !== undefined) opusOptions.complexity = options.complexity;
      return new OpusCodec(opusOptions);
    }
  }
}
