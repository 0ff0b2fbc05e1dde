/** A transport address (the media layer's IceEndpoint has the same shape). */
export interface IceEndpoint {
  address: string;
  port: number;
}

/** One side's `a=ice-ufrag` / `a=ice-pwd` (RFC 8839 §5.4). */
export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

export type IceCandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** One `a=candidate` line (RFC 8839 §5.1); only UDP ones are kept, so transport is always udp. */
export interface IceCandidate {
  foundation: string;
  component: number;
  transport: 'udp';
  priority: number;
  address: string;
  port: number;
  type: IceCandidateType;
  relatedAddress?: string;
  relatedPort?: number;
}

export type IceRole = 'controlling' | 'controlled';

/** What the far end's SDP says about ICE: its credentials, its candidates and `a=ice-lite`. */
export interface IceRemoteDescription {
  credentials: IceCredentials;
  candidates: IceCandidate[];
  lite: boolean;
}

export interface IceTimers {
  /** Ta: the gap between two checks leaving (RFC 8445 §14.2). */
  checkPacingMs: number;
  /** First retransmission timeout of a check; it doubles on each retransmission (RFC 5389 §7.2.1). */
  checkRetransmitMs: number;
  /** Sends of one check before its pair fails (Rc, RFC 5389 §7.2.1). */
  maxCheckAttempts: number;
  /** Give up, and emit `failed`, if no pair has been selected this long after setRemote. */
  failAfterMs: number;
  /** Mean gap between consent requests; each one is randomised ±20% (RFC 7675 §5.1). */
  consentIntervalMs: number;
  /** Consent expires this long after the last authenticated response (RFC 7675 §5.1). */
  consentTimeoutMs: number;
}

export const DEFAULT_ICE_TIMERS: IceTimers = {
  checkPacingMs: 50,
  checkRetransmitMs: 250,
  maxCheckAttempts: 7,
  failAfterMs: 10_000,
  consentIntervalMs: 5_000,
  consentTimeoutMs: 30_000,
};

export interface IceAgentOptions {
  local: IceCredentials;
  /** Our only candidate: the host candidate of the call's socket (advertised address, its port). */
  localCandidate: IceCandidate;
  /** The role we take unless the far end is lite (then always controlling) or a conflict says otherwise. */
  role: IceRole;
  /** Sends a datagram from the call's socket; the agent never owns a socket. */
  send: (data: Buffer, to: IceEndpoint) => void;
  timers?: Partial<IceTimers>;
  /** The 64-bit number that settles role conflicts (RFC 8445 §7.3.1.1); random unless given. */
  tieBreaker?: bigint;
  /** Clock for timestamps, for tests; Date.now by default. */
  now?: () => number;
}
