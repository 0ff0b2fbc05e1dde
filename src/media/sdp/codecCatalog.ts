import type { AudioCodecName } from './sdpTypes.js';

export interface CodecDefinition {
  name: AudioCodecName;
  /** Encoding name as written in a=rtpmap (compared case-insensitively, RFC 4855 §3). */
  encodingName: string;
  clockRate: number;
  channels: number;
  /** Payload type we put in our own offers; static ones come from RFC 3551. */
  offerPayloadType: number;
}

/** What each codec looks like on the wire. */
export const CODECS: Readonly<Record<AudioCodecName, CodecDefinition>> = {
  PCMU: { name: 'PCMU', encodingName: 'PCMU', clockRate: 8000, channels: 1, offerPayloadType: 0 },
  PCMA: { name: 'PCMA', encodingName: 'PCMA', clockRate: 8000, channels: 1, offerPayloadType: 8 },
  G722: { name: 'G722', encodingName: 'G722', clockRate: 8000, channels: 1, offerPayloadType: 9 },
  // 111 is what browsers use, so our offers look familiar to WebRTC-derived stacks.
  opus: { name: 'opus', encodingName: 'opus', clockRate: 48000, channels: 2, offerPayloadType: 111 },
};

/** Static payload types an offer may list without a=rtpmap (RFC 3551 table 4). */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, { encodingName: string; clockRate: number }> = new Map(
  [
    [0, { encodingName: 'PCMU', clockRate: 8000 }],
    [8, { encodingName: 'PCMA', clockRate: 8000 }],
    [9, { encodingName: 'G722', clockRate: 8000 }],
  ],
);

/** telephone-event payload types of our offers, one per clock rate we may end up using. */
export const OFFER_TELEPHONE_EVENT_PAYLOAD_TYPES: ReadonlyMap<number, number> = new Map([
  [8000, 101],
  [48000, 110],
]);

/** RFC 4733 events 0-15 are the DTMF digits, 16 is flash; what we send and accept. */
export const TELEPHONE_EVENTS = '0-16';

export const DEFAULT_PTIME_MS = 20;
/** A ptime outside this is a peer mistake; we fall back to the default rather than honour it. */
export const MIN_PTIME_MS = 10;
export const MAX_PTIME_MS = 120;

/** Opus fmtp we write: 10 ms minimum frames, and we decode in-band FEC (RFC 7587 §6.1). */
export const OPUS_LOCAL_FMTP = 'minptime=10;useinbandfec=1';
