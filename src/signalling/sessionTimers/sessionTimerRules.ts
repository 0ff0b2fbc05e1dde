/**
 * RFC 4028 (session timers) as pure rules: header parsing, the UAS's choice for an incoming INVITE
 * (422 with Min-SE, or the interval and refresher to answer with), the UAC's reading of a 2xx, and
 * the timer arithmetic. No I/O: the dialog code that refreshes and expires sessions builds on it.
 */

import { splitHeaderList } from '../splitHeaderList.js';

export type Refresher = 'uac' | 'uas';

/**
 * How we refresh where we are the refresher: `update` is UPDATE (RFC 3311, no SDP) when the far
 * end's Allow lists it, else re-INVITE; `invite` is always a re-INVITE with our last SDP.
 */
export type RefreshMethodSetting = 'update' | 'invite';

/** The request a refresh of ours is. */
export type RefreshMethod = 'UPDATE' | 'INVITE';

/** The RFC's floor for Min-SE (RFC 4028 4: "MUST NOT be less than 90 seconds"). */
export const RFC_MIN_SE_SECONDS = 90;

export interface SessionTimerSettings {
  /** The interval we ask for (our INVITEs) and grant at most (theirs). */
  expiresSeconds: number;
  /** The smallest interval we accept; 90 s or more in configuration (a test may go lower). */
  minSeSeconds: number;
  /** How we refresh (default `update`: UPDATE where the far end allows it). */
  refreshMethod?: RefreshMethodSetting;
}

export interface SessionExpires {
  seconds: number;
  refresher?: Refresher;
}

/** `Session-Expires: 1800;refresher=uac` (compact `x`); undefined when absent or malformed. */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';');
  const seconds = parseDelta(delta);
  if (seconds === undefined) return undefined;
  const result: SessionExpires = { seconds };
  for (const param of params) {
    const [name, raw] = param.split('=');
    if ((name ?? '').trim().toLowerCase() !== 'refresher') continue;
    const refresher = (raw ?? '').trim().toLowerCase();
    if (refresher === 'uac' || refresher === 'uas') result.refresher = refresher;
  }
  return result;
}

/** `Min-SE: 90` (parameters ignored); undefined when absent or malformed. */
export function parseMinSe(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return parseDelta(value.split(';')[0]);
}

function parseDelta(text: string | undefined): number | undefined {
  const trimmed = (text ?? '').trim();
  if (!/^\d{1,10}$/.test(trimmed)) return undefined;
  const seconds = Number(trimmed);
  return seconds > 0 ? seconds : undefined;
}

/** What the INVITE says about timers, as srf's request reads its headers. */
export interface InviteTimerHeaders {
  sessionExpires?: string | undefined;
  minSe?: string | undefined;
  /** The UAC lists `timer` in Supported (or Require). */
  supportsTimer: boolean;
}

export type InboundTimerDecision =
  /** RFC 4028 8.1 / 9: the interval is below what we accept. */
  | { kind: 'reject'; status: 422; headers: { 'Min-SE': string } }
  /** No timer on this session (the INVITE asked for none and cannot refresh). */
  | { kind: 'none' }
  | {
      kind: 'timer';
      seconds: number;
      /** Who refreshes: the far end (uac) or us (uas). */
      refresher: Refresher;
      /** Headers of our 2xx. */
      headers: Record<string, string>;
    };

/**
 * RFC 4028 9 (UAS behaviour) for an incoming INVITE. An interval below our minimum is refused 422
 * with our Min-SE. One above our `expiresSeconds` is lowered to it, never below the request's
 * Min-SE. A refresher the UAC chose is kept; without one, the UAC refreshes when it supports
 * timers, else we do (RFC 4028 9: a UAC without timer support cannot be made the refresher). With
 * no Session-Expires in the request we add one only for a UAC that supports timers.
 */
export function decideInbound(invite: InviteTimerHeaders, ours: SessionTimerSettings): InboundTimerDecision {
  const requested = parseSessionExpires(invite.sessionExpires);
  const theirMinSe = parseMinSe(invite.minSe) ?? 0;
  if (requested && requested.seconds < ours.minSeSeconds) {
    return { kind: 'reject', status: 422, headers: { 'Min-SE': String(ours.minSeSeconds) } };
  }
  if (!requested && !invite.supportsTimer) return { kind: 'none' };
  const floor = Math.max(theirMinSe, ours.minSeSeconds);
  const seconds = Math.max(floor, Math.min(requested?.seconds ?? ours.expiresSeconds, ours.expiresSeconds));
  const refresher: Refresher = invite.supportsTimer ? (requested?.refresher ?? 'uac') : 'uas';
  const headers: Record<string, string> = { 'Session-Expires': `${seconds};refresher=${refresher}` };
  // RFC 4028 9: Require: timer in the 2xx when the UAC supports it.
  if (invite.supportsTimer) headers.Require = 'timer';
  return { kind: 'timer', seconds, refresher, headers };
}

/** Headers of an INVITE of ours offering timers (RFC 4028 7.1); the UAS picks the refresher. */
export function offerHeaders(ours: SessionTimerSettings): {
  'Session-Expires': string;
  'Min-SE': string;
  Supported: string;
} {
  return {
    'Session-Expires': String(ours.expiresSeconds),
    'Min-SE': String(ours.minSeSeconds),
    Supported: 'timer',
  };
}

/** An INVITE's headers with our timer offer added: `timer` joins whatever Supported says already. */
export function withTimerOffer(
  headers: Record<string, string>,
  ours: SessionTimerSettings,
): Record<string, string> {
  const offer = offerHeaders(ours);
  const supported = headers.Supported ? `${headers.Supported}, ${offer.Supported}` : offer.Supported;
  return { ...headers, ...offer, Supported: supported };
}

/**
 * RFC 4028 7.2: the session interval and refresher after a 2xx to our INVITE. No Session-Expires
 * in it: the UAS does not do timers and the session runs without one (RFC 4028 7.2 lets the UAC
 * refresh anyway; we do not, as a far end that ignores timers needs no refresh). A refresher
 * missing from the 2xx (the UAS must set it) is taken as us, the UAC: the safe side, as a refresh
 * too many costs one transaction where one too few ends the call.
 */
export function decideOutbound(
  sessionExpires: string | undefined,
): { seconds: number; refresher: Refresher } | undefined {
  const granted = parseSessionExpires(sessionExpires);
  if (!granted) return undefined;
  return { seconds: granted.seconds, refresher: granted.refresher ?? 'uac' };
}

/** After a 422 to our INVITE: the interval to ask for next (RFC 4028 7.4), or undefined to give up. */
export function retryAfter422(minSeHeader: string | undefined, asked: number): number | undefined {
  const minSe = parseMinSe(minSeHeader);
  if (minSe === undefined || minSe <= asked) return undefined;
  return minSe;
}

/** UPDATE when the setting allows it and the far end's Allow lists UPDATE; re-INVITE otherwise. */
export function refreshMethodFor(
  setting: RefreshMethodSetting | undefined,
  allow: string | undefined,
): RefreshMethod {
  if ((setting ?? 'update') !== 'update' || allow === undefined) return 'INVITE';
  return splitHeaderList(allow).some((method) => method.trim().toUpperCase() === 'UPDATE')
    ? 'UPDATE'
    : 'INVITE';
}

/**
 * Headers of a refresh of ours (RFC 4028 7.4): we send it, so we are its UAC and stay the
 * refresher with `refresher=uac`; Min-SE repeats the floor we know of.
 */
export function refreshHeaders(seconds: number, minSeSeconds: number | undefined): Record<string, string> {
  return {
    'Session-Expires': `${seconds};refresher=uac`,
    ...(minSeSeconds !== undefined ? { 'Min-SE': String(minSeSeconds) } : {}),
    Supported: 'timer',
  };
}

/**
 * How long to wait before sending a refresh again after a 491 (glare, RFC 3261 14.1): 2.1 to 4 s
 * when we made the dialog's Call-ID (our INVITE), 0 to 2 s when the far end did, in 10 ms steps.
 */
export function glareRetryDelayMs(ownsCallId: boolean, random: () => number): number {
  const steps = Math.floor(random() * (ownsCallId ? 190 : 200));
  return ownsCallId ? 2_100 + steps * 10 : steps * 10;
}

/** When the refresher refreshes: half the interval (RFC 4028 10, the recommended point). */
export function refreshDelayMs(seconds: number): number {
  return Math.round((seconds * 1000) / 2);
}

/**
 * When the side that is not the refresher gives up and sends BYE: the interval less a third of it
 * or 32 s, whichever is smaller (RFC 4028 10).
 */
export function expiryDelayMs(seconds: number): number {
  return Math.round((seconds - Math.min(32, seconds / 3)) * 1000);
}

/** Whether a configured minimum follows the RFC (the schema refuses anything else). */
export function validMinSe(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds >= RFC_MIN_SE_SECONDS;
}
