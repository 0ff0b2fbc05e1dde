/**
 * Types of outbound registration (RFC 3261 §10): what a trunk's registration reports, how its
 * timers are set, and the srf request it is made of.
 */

/**
 * - registering: started (or its settings changed), no answer yet;
 * - registered: the registrar took our Contact, until `expiresAt` (refreshed before then);
 * - failed: the last attempt was refused or went unanswered; retried at `nextAttemptAt`;
 * - unregistered: stopped (the binding removed with Expires: 0, or none was ever made).
 */
export type RegistrationStateName = 'registering' | 'registered' | 'failed' | 'unregistered';

export interface RegistrationState {
  state: RegistrationStateName;
  /** When the registrar's binding of our Contact ends, as last granted; null when none is known. */
  expiresAt: string | null;
  /** Why the last attempt failed (`403 Forbidden`, `no response within 35000 ms`); null after a success. */
  lastError: string | null;
  /** When the last REGISTER exchange began; null before the first. */
  lastAttemptAt: string | null;
  /** When the next REGISTER (refresh or retry) goes out; null when none is planned. */
  nextAttemptAt: string | null;
}

/** How a REGISTER exchange ended, as counted in `gateway_sip_registration_attempts_total{result}`. */
export type AttemptResult =
  /** 2xx to a REGISTER that asked for a binding. */
  | 'registered'
  /** 2xx to an Expires: 0 REGISTER. */
  | 'unregistered'
  /** 401/407 answered with credentials (the exchange goes on). */
  | 'challenged'
  /** 423 Interval Too Brief: asked again with the registrar's Min-Expires (the exchange goes on). */
  | 'interval_too_brief'
  /** Another final response: 403, 404, 5xx, a challenge to our credentials. */
  | 'rejected'
  /** No final response in time (including a 408 from the SIP server's transaction timer). */
  | 'timeout'
  /** The request could not be sent (no SIP server connection, the server refused it). */
  | 'error';

/** The timers of registrations. Every value is in milliseconds except where named otherwise. */
export interface RegistrationTiming {
  /** A refresh goes out at the earlier of half the granted time and `refreshMarginMs` before expiry… */
  refreshMarginMs: number;
  /** …but never sooner than this after the last success (a registrar granting seconds is not hammered). */
  refreshFloorMs: number;
  /** The first retry after a failure; each further failure doubles it… */
  retryInitialMs: number;
  /** …up to this. */
  retryMaxMs: number;
  /** Each retry delay is shortened by up to this share (0–1) at random, so gateways do not retry in step. */
  retryJitter: number;
  /** A REGISTER with no final response after this long has failed (past the SIP server's own 32 s timer F). */
  responseTimeoutMs: number;
  /** How long stopping waits for the un-REGISTERs' answers before it goes on without them. */
  unregisterTimeoutMs: number;
}

export const DEFAULT_REGISTRATION_TIMING: RegistrationTiming = {
  refreshMarginMs: 30_000,
  refreshFloorMs: 5_000,
  retryInitialMs: 5_000,
  retryMaxMs: 300_000,
  retryJitter: 0.2,
  responseTimeoutMs: 35_000,
  unregisterTimeoutMs: 2_000,
};

/** Everything a trunk's REGISTER needs, derived from its config. */
export interface RegistrationTarget {
  trunk: string;
  /** Request-URI: `sip:<domain>[:port];transport=…` (RFC 3261 §10.2: no user part). */
  uri: string;
  /** Where the REGISTER goes when that is not the Request-URI's host (the registrar of another domain). */
  proxy?: string;
  /** The address of record, in From and To: `sip:<username>@<domain>`. */
  aor: string;
  /** Our Contact: `@localhost`, which the SIP server replaces with its address on the transport used. */
  contact: string;
  /** The binding asked for, in seconds. */
  expiresSeconds: number;
  /** Answers the registrar's digest challenge. A secret: never logged. */
  credentials: { username: string; password: string };
}

/** A response to a request we sent, as srf delivers it. */
export interface SentRequestResponse {
  status: number;
  reason?: string;
  get(header: string): string | undefined;
}

/** A request we sent outside any dialog (srf's Request): its headers as they went out, its responses. */
export interface SentRequest {
  get(header: string): string | undefined;
  on(event: 'response', listener: (response: SentRequestResponse) => void): void;
}

/**
 * srf.request as registration uses it, in its callback form: `done` gets the request as sent once
 * the SIP server has sent it, or the reason it could not. The callback runs before srf reads the
 * next message from the server, so a listener added in it cannot miss the response.
 */
export type SendRequest = (
  uri: string,
  options: { method: string; headers: Record<string, string>; proxy?: string },
  done: (error: Error | null | undefined, request: SentRequest | undefined) => void,
) => void;
