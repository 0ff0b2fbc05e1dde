import type { DtlsFingerprint, DtlsRole } from '../dtls/dtlsTypes.js';
import type { IceCredentials, IceRole } from '../ice/iceTypes.js';
import type { EncryptionPolicy, NegotiatedEncryption } from '../srtp/srtpTypes.js';
import type { RemoteDtlsIce } from './dtlsIceSdp.js';

/** Codecs the SIP leg can carry audio with (telephone-event rides beside one of them). */
export type AudioCodecName = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/** One entry of the configured preference list (`media.codecs`), best first. */
export type CodecPreference = AudioCodecName | 'telephone-event';

/** RFC 3264 stream direction, always from the point of view of the side that wrote it. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/**
 * RTP profiles of an m= line we take: plain (RFC 3551, 4585), their SDES-SRTP forms (RFC 3711
 * §12, 5124) and their DTLS-SRTP forms (RFC 5764 §8).
 */
export type RtpProfile =
  | 'RTP/AVP'
  | 'RTP/AVPF'
  | 'RTP/SAVP'
  | 'RTP/SAVPF'
  | 'UDP/TLS/RTP/SAVP'
  | 'UDP/TLS/RTP/SAVPF';

export interface RtpEndpoint {
  address: string;
  port: number;
}

/** Opus parameters the peer signalled in its fmtp (RFC 7587). */
export interface OpusPeerParameters {
  /** The peer decodes in-band FEC, so sending it helps on lossy paths. */
  useInbandFec: boolean;
  /** The peer prefers to receive stereo. */
  stereo: boolean;
  /** The peer will likely send stereo. */
  spropStereo: boolean;
  minptime: number | null;
  maxAverageBitrate: number | null;
}

export interface NegotiatedCodec {
  name: AudioCodecName;
  /** The number both sides use for it (the offerer's, RFC 3264 §6.1). */
  payloadType: number;
  /** RTP timestamp clock: 8000 for G.722 although it samples at 16 kHz (RFC 3551 §4.5.2). */
  clockRate: number;
  /** Channels in the rtpmap: Opus always says 2 (RFC 7587), whatever it carries. */
  channels: number;
  /** Set for Opus only. */
  opus: OpusPeerParameters | null;
}

export interface TelephoneEventFormat {
  payloadType: number;
  /**
   * The audio codec's clock rate (RFC 4733 §2.1), except 8000 beside Opus when that is all the
   * peer offers (WhatsApp): durations count in this clock, timestamps in the codec's.
   */
  clockRate: number;
  /** The event list of the fmtp line, e.g. "0-16". */
  events: string;
}

/** The outcome of one offer/answer exchange: everything the RTP leg needs to send and receive. */
export interface NegotiatedAudio {
  codec: NegotiatedCodec;
  telephoneEvent: TelephoneEventFormat | null;
  /** Packetisation time we send with: the offerer's a=ptime, else 20 ms. */
  ptimeMs: number;
  /** Our direction: sendonly means we send and do not expect media back. */
  direction: MediaDirection;
  remoteRtp: RtpEndpoint;
  /** Where RTCP goes: the RTP endpoint under rtcp-mux, else a=rtcp or RTP port + 1. */
  remoteRtcp: RtpEndpoint;
  rtcpMux: boolean;
  profile: RtpProfile;
  /** How the stream is keyed; the keys themselves stay in the worker's SdpSession. */
  encryption: NegotiatedEncryption;
  /**
   * The peer asked not to receive media by an all-zeros connection address (RFC 2543 hold,
   * still sent by old PBXs); folded into `direction` already, kept for logs.
   */
  remoteHoldByAddress: boolean;
}

export interface SdpSessionOptions {
  /** Preference list, best first (config `media.codecs`). */
  codecs: readonly CodecPreference[];
  /** Address written into c= and o= (what the peer sends RTP to). */
  address: string;
  /** Our RTP port; RTCP is this + 1 unless rtcp-mux is negotiated. */
  rtpPort: number;
  /** o= username and s= line. */
  username?: string;
  sessionName?: string;
  /** o= session id; a random one when absent. */
  sessionId?: string;
  /** The trunk's media encryption policy; plain RTP only when absent. */
  encryption?: EncryptionPolicy;
  /** Needed to offer or answer DTLS-SRTP: without it a DTLS offer is refused (488). */
  dtls?: DtlsIceIdentity;
}

/** What this session says of itself in DTLS-SRTP SDP: the worker's certificate, its own ICE credentials. */
export interface DtlsIceIdentity {
  fingerprint: DtlsFingerprint;
  ice: IceCredentials;
}

/** The DTLS-SRTP transport agreed with the peer, for the media session's ICE agent and handshake. */
export interface DtlsIceAgreement {
  remote: RemoteDtlsIce;
  /** What our a=setup settled on, repeated in our re-offers so the association stays. */
  setup: 'active' | 'passive';
  dtlsRole: DtlsRole;
  iceRole: IceRole;
}

/** Options of an offer we make (an outbound call, or hold/resume by re-INVITE). */
export interface LocalOfferOptions {
  /** sendonly puts the peer on hold; sendrecv resumes. Default: as the last exchange left it. */
  direction?: MediaDirection;
}

export interface LocalDescription {
  sdp: string;
  /** o= version of this description (it rises only when the body changes). */
  version: number;
}

export interface AnswerResult extends LocalDescription {
  media: NegotiatedAudio;
}
