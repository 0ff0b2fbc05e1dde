import type { MediaDescription, SessionDescription } from 'sdp-transform';
import { parseFingerprint } from '../dtls/dtlsFingerprint.js';
import { parseSetup } from '../dtls/dtlsSetup.js';
import type { DtlsFingerprint, SetupAttribute } from '../dtls/dtlsTypes.js';
import type {
  IceCandidate,
  IceCandidateType,
  IceCredentials,
  IceRemoteDescription,
} from '../ice/iceTypes.js';

/** The m= profiles keyed by DTLS-SRTP (RFC 5764 §8, RFC 5763): WebRTC and WhatsApp send SAVPF. */
export const DTLS_PROFILES: readonly string[] = ['UDP/TLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVP'];

/** What a peer's DTLS-SRTP m= line says about its transport: ICE, certificate, DTLS role. */
export interface RemoteDtlsIce {
  ice: IceRemoteDescription;
  /** Any of these may be the peer's certificate (RFC 8122 §5: one per hash function). */
  fingerprints: DtlsFingerprint[];
  setup: SetupAttribute;
  /** The m= line's a=mid, echoed in our answer and BUNDLE group; null when it has none. */
  mid: string | null;
}

/** Our side of a DTLS-SRTP m= line, written into an offer or answer. */
export interface LocalDtlsIce {
  ice: IceCredentials;
  candidates: readonly IceCandidate[];
  fingerprint: DtlsFingerprint;
  setup: SetupAttribute;
  mid: string | null;
}

const CANDIDATE_TYPES: readonly string[] = ['host', 'srflx', 'prflx', 'relay'];

/**
 * Reads the DTLS and ICE attributes of a peer's m= line, media level first, then session level
 * (RFC 8839 §5.4, RFC 8122 §5.1 allow both). Without ICE credentials, a candidate, a fingerprint
 * or rtcp-mux the line is refused: this gateway runs DTLS only over ICE on one BUNDLEd port, so
 * such a stream could never carry audio.
 */
export function readDtlsIce(
  description: SessionDescription,
  section: MediaDescription,
): RemoteDtlsIce | { refused: string } {
  const ufrag = section.iceUfrag ?? description.iceUfrag;
  const pwd = section.icePwd ?? description.icePwd;
  if (!ufrag || !pwd) return { refused: `${section.protocol} without a=ice-ufrag and a=ice-pwd` };
  const line = section.fingerprint ?? description.fingerprint;
  const fingerprint = line ? parseFingerprint(`${line.type} ${line.hash}`) : null;
  if (!fingerprint) return { refused: `${section.protocol} without a usable a=fingerprint` };
  // Absent, a=setup means active (RFC 4145 §4).
  const setup = parseSetup(section.setup ?? description.setup ?? 'active');
  if (!setup || setup === 'holdconn') return { refused: `a=setup:${section.setup} cannot start DTLS` };
  if (section.rtcpMux !== 'rtcp-mux') return { refused: 'DTLS-SRTP is only taken with a=rtcp-mux' };
  const candidates = (section.candidates ?? []).flatMap((candidate): IceCandidate[] => {
    // Component 2 would be RTCP without rtcp-mux; TCP candidates (RFC 6544) are not gathered.
    if (candidate.component !== 1 || candidate.transport.toLowerCase() !== 'udp') return [];
    if (!CANDIDATE_TYPES.includes(candidate.type) || !Number.isInteger(candidate.port)) return [];
    return [
      {
        foundation: String(candidate.foundation),
        component: 1,
        transport: 'udp',
        priority: Number(candidate.priority),
        address: candidate.ip,
        port: candidate.port,
        type: candidate.type as IceCandidateType,
        ...(candidate.raddr ? { relatedAddress: candidate.raddr } : {}),
        ...(candidate.rport !== undefined ? { relatedPort: candidate.rport } : {}),
      },
    ];
  });
  if (candidates.length === 0) return { refused: `${section.protocol} without a UDP a=candidate` };
  return {
    ice: { credentials: { ufrag, pwd }, candidates, lite: description.icelite === 'ice-lite' },
    fingerprints: [fingerprint],
    setup,
    mid: section.mid === undefined ? null : String(section.mid),
  };
}

/** Adds our DTLS and ICE attributes to an m= line sdp-transform will write. */
export function writeDtlsIce(media: MediaDescription, local: LocalDtlsIce): void {
  media.iceUfrag = local.ice.ufrag;
  media.icePwd = local.ice.pwd;
  media.fingerprint = { type: local.fingerprint.algorithm, hash: local.fingerprint.value };
  media.setup = local.setup;
  if (local.mid !== null) media.mid = local.mid;
  media.candidates = local.candidates.map((candidate) => ({
    foundation: candidate.foundation,
    component: candidate.component,
    transport: 'udp',
    priority: candidate.priority,
    ip: candidate.address,
    port: candidate.port,
    type: candidate.type,
  }));
  // All our candidates are in the SDP: the peer need not wait for trickled ones (RFC 8840 §4.1).
  media.endOfCandidates = 'end-of-candidates';
}
