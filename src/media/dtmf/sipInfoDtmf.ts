import type { DtmfDigit } from './dtmfTypes.js';
import { digitToEvent, eventToDigit } from './telephoneEvent.js';

export interface SipInfoDtmf {
  digit: DtmfDigit;
  /** From `Duration=` of application/dtmf-relay; undefined when the body has none. */
  durationMs: number | undefined;
}

/** A signal as bodies write it: the digit itself, or its event code ("10" for *, "11" for #). */
function toDigit(signal: string): DtmfDigit | undefined {
  const value = signal.trim();
  if (value.length === 1) {
    const event = digitToEvent(value);
    return event === undefined ? undefined : eventToDigit(event);
  }
  if (/^\d{2}$/.test(value)) return eventToDigit(Number(value));
  return undefined;
}

/**
 * Reads the digit of a SIP INFO body: `application/dtmf-relay` ("Signal=5\r\nDuration=160") or
 * `application/dtmf` ("5"). Returns undefined for other content types or unreadable bodies, so
 * the caller can answer 415/400 as it sees fit.
 */
export function parseSipInfoDtmf(contentType: string, body: string): SipInfoDtmf | undefined {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/dtmf') {
    const digit = toDigit(body);
    return digit ? { digit, durationMs: undefined } : undefined;
  }
  if (type !== 'application/dtmf-relay') return undefined;
  let digit: DtmfDigit | undefined;
  let durationMs: number | undefined;
  for (const line of body.split(/\r?\n/)) {
    const separator = line.indexOf('=');
    if (separator < 0) continue;
    const key = line.slice(0, separator).trim().toLowerCase();
    const value = line.slice(separator + 1).trim();
    if (key === 'signal') digit = toDigit(value);
    else if (key === 'duration' && /^\d+$/.test(value)) durationMs = Number(value);
  }
  return digit ? { digit, durationMs } : undefined;
}
