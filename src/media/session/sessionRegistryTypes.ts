import type { Logger } from 'pino';
import type { DtlsCertificate } from '../dtls/dtlsTypes.js';
import type { IceCandidate, IceCredentials } from '../ice/iceTypes.js';
import type { RtpPortLease } from '../ports/portAllocatorTypes.js';
import type { SdpSession } from '../sdp/SdpSession.js';
import type { NegotiatedAudio } from '../sdp/sdpTypes.js';
import type { SessionStats } from '../workers/mediaChannelTypes.js';
import type { MediaTimeouts } from './mediaTimeoutTypes.js';

/** What the registry needs of a session it keeps. */
export interface RegisteredSession {
  readonly id: string;
  /**
   * Starts the session's media, once it is registered (events it emits can be routed). `media`
   * is null while our offer waits for its answer.
   */
  start(media: NegotiatedAudio | null): void;
  /** Frees everything, its port lease first; idempotent. Resolves with the final stats. */
  close(): Promise<SessionStats>;
}

/** What the worker hands a new session: its leased ports, its SDP state and its limits. */
export interface SessionParts {
  id: string;
  callId: string | null;
  lease: RtpPortLease;
  /** Already holds the first exchange: our answer to the peer's offer, or our own offer. */
  sdp: SdpSession;
  timeouts: MediaTimeouts;
  /** Created for an answer not yet sent: nothing is sent and no timeout runs until startMedia. */
  awaitingAnswer: boolean;
  /** What a DTLS-SRTP stream needs beyond its SDP; null when the trunk's policy has no DTLS. */
  secure: SecureMediaParts | null;
}

/** The worker's DTLS certificate, and the ICE credentials and host candidate of this session. */
export interface SecureMediaParts {
  certificate: DtlsCertificate;
  ice: IceCredentials;
  localCandidate: IceCandidate;
}

export interface SessionRegistryOptions {
  /** Sessions that end on their own are logged here, with why. */
  logger?: Logger;
  /**
   * The worker's DTLS certificate, made on first use and shared by its sessions. Without it a
   * DTLS-SRTP offer is refused (488) and none is made.
   */
  certificate?: () => Promise<DtlsCertificate>;
}
