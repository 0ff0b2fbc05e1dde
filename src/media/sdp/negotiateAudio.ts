import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { type CryptoLine, type UsableCrypto, usableCrypto } from '../srtp/sdesCrypto.js';
import type { EncryptionPolicy, NegotiatedEncryption } from '../srtp/srtpTypes.js';
import { CODECS, DEFAULT_PTIME_MS, MAX_PTIME_MS, MIN_PTIME_MS, TELEPHONE_EVENTS } from './codecCatalog.js';
import { DTLS_PROFILES, type RemoteDtlsIce, readDtlsIce } from './dtlsIceSdp.js';
import { fmtpParameters, type OfferedFormat, offeredFormats } from './offeredFormats.js';
import { connectionOf, isHoldAddress } from './parseSdp.js';
import { SdpNotAcceptableError } from './sdpErrors.js';
import type {
  AudioCodecName,
  CodecPreference,
  MediaDirection,
  NegotiatedAudio,
  NegotiatedCodec,
  OpusPeerParameters,
  RtpProfile,
  TelephoneEventFormat,
} from './sdpTypes.js';

const PLAIN_PROFILES: readonly string[] = ['RTP/AVP', 'RTP/AVPF'];
const SRTP_PROFILES: readonly string[] = ['RTP/SAVP', 'RTP/SAVPF'];

/** The audio section we act on and what was agreed for it. */
export interface AudioNegotiation {
  /** Index of the m= line among the description's media sections. */
  mediaIndex: number;
  media: NegotiatedAudio;
  /** The peer's SDES key line we use; null for plain RTP and DTLS. */
  crypto: UsableCrypto | null;
  /** The peer's DTLS and ICE attributes when the stream is keyed by DTLS-SRTP. */
  dtls: RemoteDtlsIce | null;
}

/** How one m= line would be keyed under a policy, or why it cannot be. */
export type SectionKeying =
  | { crypto: UsableCrypto | null; dtls: null }
  | { crypto: null; dtls: RemoteDtlsIce }
  | { refused: string };

/**
 * Picks the audio stream of a peer's description and agrees on it.
 *
 * `order` says whose preference wins: 'ours' (answering an offer: the configured list decides,
 * as the gateway's operator asked) or 'theirs' (reading an answer to our offer: the answerer's
 * first listed codec is what it will send). The encryption policy decides which m= lines
 * qualify: see `keyingOf`.
 */
export function negotiateAudio(
  description: SessionDescription,
  codecs: readonly CodecPreference[],
  order: 'ours' | 'theirs',
  policy: EncryptionPolicy,
): AudioNegotiation {
  let sawAudio = false;
  let refusal: string | null = null;
  for (const [mediaIndex, section] of description.media.entries()) {
    if (section.type !== 'audio' || section.port === 0) continue;
    sawAudio = true;
    const keying = keyingOf(description, section, policy);
    if ('refused' in keying) {
      refusal ??= keying.refused;
      continue;
    }
    const formats = offeredFormats(section);
    const chosen = chooseCodec(formats, codecs, order);
    if (!chosen) continue;
    const telephoneEvent = codecs.includes('telephone-event')
      ? chooseTelephoneEvent(formats, chosen.codec.clockRate)
      : null;
    // The DTLS handshake picks the suite later; the call reports the keying method.
    const encryption: NegotiatedEncryption = keying.crypto
      ? { keying: 'sdes', suite: keying.crypto.suite.name }
      : { keying: keying.dtls ? 'dtls' : 'none', suite: null };
    return {
      mediaIndex,
      media: describe(description, section, chosen.codec, telephoneEvent, encryption),
      crypto: keying.crypto,
      dtls: keying.dtls,
    };
  }
  throw new SdpNotAcceptableError(
    refusal ??
      (sawAudio ? 'no acceptable audio codec or RTP profile offered' : 'no active audio stream in the SDP'),
  );
}

/**
 * Whether an audio m= line can be taken under the trunk's policy, and how it is keyed:
 * - UDP/TLS/RTP/SAVP(F) is DTLS-SRTP over ICE (RFC 5763, 5764): taken when the policy keys by
 *   DTLS and the line carries ICE credentials, a candidate, a fingerprint and rtcp-mux.
 * - RTP/SAVP(F) needs an a=crypto line with a suite we have (RFC 4568), and a policy that keys
 *   by SDES; without one it is refused, never downgraded to plain RTP.
 * - RTP/AVP(F) with a usable a=crypto (best-effort SRTP, as baresip's `srtp` and many PBXs
 *   offer) is keyed by SDES when the policy allows SDES; else it is plain RTP, taken unless the
 *   policy requires encryption.
 */
export function keyingOf(
  description: SessionDescription,
  section: MediaDescription,
  policy: EncryptionPolicy,
): SectionKeying {
  const sdesAllowed = policy.method === 'sdes' || policy.method === 'sdes_or_dtls';
  const dtlsAllowed = policy.method === 'dtls' || policy.method === 'sdes_or_dtls';
  if (DTLS_PROFILES.includes(section.protocol)) {
    if (!dtlsAllowed)
      return { refused: `${section.protocol} offered but this trunk does not key media by DTLS` };
    const dtls = readDtlsIce(description, section);
    return 'refused' in dtls ? dtls : { crypto: null, dtls };
  }
  const secure = SRTP_PROFILES.includes(section.protocol);
  if (!secure && !PLAIN_PROFILES.includes(section.protocol)) {
    return { refused: `media profile ${section.protocol} is not supported` };
  }
  const lines = (section.crypto ?? []) as CryptoLine[];
  const crypto = sdesAllowed ? (lines.map(usableCrypto).find((usable) => usable !== null) ?? null) : null;
  if (crypto) return { crypto, dtls: null };
  if (secure) {
    if (!sdesAllowed)
      return { refused: `${section.protocol} offered but this trunk does not key media by SDES` };
    return {
      refused:
        lines.length === 0
          ? `${section.protocol} without an a=crypto line`
          : `no supported SRTP crypto suite in a=crypto (we have AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM)`,
    };
  }
  if (policy.required) {
    return { refused: `this trunk requires SRTP (${policy.method}) and the SDP offers plain RTP` };
  }
  return { crypto: null, dtls: null };
}

function chooseCodec(
  formats: readonly OfferedFormat[],
  codecs: readonly CodecPreference[],
  order: 'ours' | 'theirs',
): { codec: NegotiatedCodec } | null {
  const wanted = codecs.filter((name): name is AudioCodecName => name !== 'telephone-event');
  if (order === 'ours') {
    for (const name of wanted) {
      const format = formats.find((candidate) => matches(candidate, name));
      if (format) return { codec: toCodec(format, name) };
    }
    return null;
  }
  for (const format of formats) {
    const name = wanted.find((candidate) => matches(format, candidate));
    if (name) return { codec: toCodec(format, name) };
  }
  return null;
}

function matches(format: OfferedFormat, name: AudioCodecName): boolean {
  const definition = CODECS[name];
  if (format.encodingName.toLowerCase() !== definition.encodingName.toLowerCase()) return false;
  if (format.clockRate !== definition.clockRate) return false;
  // RFC 7587 requires opus/48000/2, but a bare opus/48000 is common enough to accept.
  return name === 'opus' ? format.channels === 1 || format.channels === 2 : format.channels === 1;
}

function toCodec(format: OfferedFormat, name: AudioCodecName): NegotiatedCodec {
  const definition = CODECS[name];
  return {
    name,
    payloadType: format.payloadType,
    clockRate: definition.clockRate,
    channels: definition.channels,
    opus: name === 'opus' ? opusParameters(format.fmtp) : null,
  };
}

function opusParameters(fmtp: string | null): OpusPeerParameters {
  const parameters = fmtpParameters(fmtp);
  const numeric = (key: string): number | null => {
    const value = Number(parameters.get(key));
    return parameters.has(key) && Number.isFinite(value) ? value : null;
  };
  return {
    useInbandFec: parameters.get('useinbandfec') === '1',
    stereo: parameters.get('stereo') === '1',
    spropStereo: parameters.get('sprop-stereo') === '1',
    minptime: numeric('minptime'),
    maxAverageBitrate: numeric('maxaveragebitrate'),
  };
}

/**
 * RFC 4733 §2.1: telephone-event should run at the audio codec's clock. Opus beside only
 * telephone-event/8000 is common all the same (WhatsApp offers exactly that, PT 126, in both its
 * keyings; baresip and libwebrtc do it too): it is taken, durations counted at 8 kHz and
 * timestamps on the stream's 48 kHz clock, as those peers do. A 48 kHz one is preferred if offered.
 */
function chooseTelephoneEvent(
  formats: readonly OfferedFormat[],
  clockRate: number,
): TelephoneEventFormat | null {
  const events = formats.filter((candidate) => candidate.encodingName.toLowerCase() === 'telephone-event');
  const format =
    events.find((candidate) => candidate.clockRate === clockRate) ??
    (clockRate === 48_000 ? events.find((candidate) => candidate.clockRate === 8000) : undefined);
  if (!format) return null;
  return {
    payloadType: format.payloadType,
    clockRate: format.clockRate,
    events: format.fmtp?.trim() || TELEPHONE_EVENTS,
  };
}

function describe(
  description: SessionDescription,
  section: MediaDescription,
  codec: NegotiatedCodec,
  telephoneEvent: TelephoneEventFormat | null,
  encryption: NegotiatedEncryption,
): NegotiatedAudio {
  const connection = connectionOf(description, section);
  const holdByAddress = isHoldAddress(connection.ip);
  const written = section.direction ?? description.direction ?? 'sendrecv';
  // An all-zeros address means "do not send to me" whatever the direction attribute says.
  const theirs = holdByAddress ? withoutReceive(written) : written;
  const rtcpMux = section.rtcpMux === 'rtcp-mux';
  const remoteRtp = { address: connection.ip, port: section.port };
  const remoteRtcp = rtcpMux
    ? remoteRtp
    : { address: section.rtcp?.address ?? connection.ip, port: section.rtcp?.port ?? section.port + 1 };
  return {
    codec,
    telephoneEvent,
    ptimeMs: ptimeOf(section),
    direction: reverseDirection(theirs),
    remoteRtp,
    remoteRtcp,
    rtcpMux,
    profile: section.protocol as RtpProfile,
    encryption,
    remoteHoldByAddress: holdByAddress,
  };
}

function ptimeOf(section: MediaDescription): number {
  const ptime = Number(section.ptime);
  if (!Number.isFinite(ptime) || ptime < MIN_PTIME_MS || ptime > MAX_PTIME_MS) return DEFAULT_PTIME_MS;
  return Math.round(ptime);
}

/** The peer's direction seen from our side (RFC 3264 §6.1: sendonly is answered recvonly). */
export function reverseDirection(direction: MediaDirection): MediaDirection {
  switch (direction) {
    case 'sendonly':
      return 'recvonly';
    case 'recvonly':
      return 'sendonly';
    default:
      return direction;
  }
}

function withoutReceive(direction: MediaDirection): MediaDirection {
  return direction === 'sendrecv' || direction === 'sendonly' ? 'sendonly' : 'inactive';
}

/** The directions both sides allow: we send only if both agree we send, and so on. */
export function intersectDirections(a: MediaDirection, b: MediaDirection): MediaDirection {
  const send = sends(a) && sends(b);
  const receive = receives(a) && receives(b);
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

function sends(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

function receives(direction: MediaDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}
