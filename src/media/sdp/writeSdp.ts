import { type MediaDescription, type SessionDescription, write } from 'sdp-transform';
import type { CryptoLine } from '../srtp/sdesCrypto.js';
import { type LocalDtlsIce, writeDtlsIce } from './dtlsIceSdp.js';
import type { MediaDirection, RtpProfile } from './sdpTypes.js';

export interface LocalFormat {
  payloadType: number;
  encodingName: string;
  clockRate: number;
  channels: number;
  fmtp: string | null;
}

export interface LocalAudioSection {
  kind: 'audio';
  port: number;
  profile: RtpProfile;
  formats: readonly LocalFormat[];
  ptimeMs: number;
  direction: MediaDirection;
  rtcpMux: boolean;
  /** SDES keys (RFC 4568): every suite we offer, or the one we answer with. */
  crypto: readonly CryptoLine[];
  /** DTLS-SRTP over ICE: our credentials, candidates, fingerprint and role; null otherwise. */
  dtlsIce: LocalDtlsIce | null;
}

/** A peer's m= line we decline: answered with port 0 and its own format list (RFC 3264 §6). */
export interface RejectedSection {
  kind: 'rejected';
  type: string;
  protocol: string;
  payloads: string;
}

export interface LocalOrigin {
  username: string;
  sessionId: string;
  version: number;
  address: string;
  sessionName: string;
}

/** Serialises our side of an offer/answer; the only place our SDP text is produced. */
export function writeSdp(
  origin: LocalOrigin,
  sections: readonly (LocalAudioSection | RejectedSection)[],
): string {
  const ipVer = origin.address.includes(':') ? 6 : 4;
  const description: SessionDescription = {
    version: 0,
    origin: {
      username: origin.username,
      sessionId: origin.sessionId,
      sessionVersion: origin.version,
      netType: 'IN',
      ipVer,
      address: origin.address,
    },
    name: origin.sessionName,
    connection: { version: ipVer, ip: origin.address },
    timing: { start: 0, stop: 0 },
    media: sections.map(toMedia),
  };
  // One audio stream, BUNDLEd with itself when it has a mid (RFC 8843): what WebRTC peers expect.
  const mids = sections.flatMap((section) =>
    section.kind === 'audio' && section.dtlsIce?.mid != null ? [section.dtlsIce.mid] : [],
  );
  if (mids.length > 0) description.groups = [{ type: 'BUNDLE', mids: mids.join(' ') }];
  return write(description);
}

function toMedia(section: LocalAudioSection | RejectedSection): MediaDescription {
  if (section.kind === 'rejected') {
    return {
      type: section.type,
      port: 0,
      protocol: section.protocol,
      payloads: section.payloads,
      rtp: [],
      fmtp: [],
    };
  }
  const media: MediaDescription = {
    type: 'audio',
    port: section.port,
    protocol: section.profile,
    payloads: section.formats.map((format) => format.payloadType).join(' '),
    rtp: section.formats.map((format) => ({
      payload: format.payloadType,
      codec: format.encodingName,
      rate: format.clockRate,
      ...(format.channels > 1 ? { encoding: format.channels } : {}),
    })),
    fmtp: section.formats
      .filter((format) => format.fmtp !== null)
      .map((format) => ({ payload: format.payloadType, config: format.fmtp ?? '' })),
    ptime: section.ptimeMs,
    direction: section.direction,
  };
  if (section.rtcpMux) media.rtcpMux = 'rtcp-mux';
  if (section.crypto.length > 0) media.crypto = section.crypto.map((line) => ({ ...line }));
  if (section.dtlsIce) writeDtlsIce(media, section.dtlsIce);
  return media;
}
