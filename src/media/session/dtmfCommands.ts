import { isDtmfDigits } from '../dtmf/telephoneEvent.js';
import { MediaCommandError } from '../workers/mediaCommandError.js';

/** Digits sent or injected by command without a duration (RFC 4733 typical). */
export const DEFAULT_DTMF_DURATION_MS = 100;

/** The digits of a sendDtmf command, upper-cased; bad_request unless every one is a DTMF code. */
export function dtmfDigitsToSend(digits: string): string {
  const upper = digits.toUpperCase();
  if (!isDtmfDigits(upper))
    throw new MediaCommandError('bad_request', `not DTMF digits: ${JSON.stringify(digits)}`, 'sendDtmf');
  return upper;
}

/** The digit of an injectDtmf command (one SIP INFO digit), upper-cased; bad_request otherwise. */
export function injectedDtmfDigit(digit: string): string {
  const upper = digit.toUpperCase();
  if (upper.length !== 1 || !isDtmfDigits(upper))
    throw new MediaCommandError('bad_request', `not a DTMF digit: ${JSON.stringify(digit)}`, 'injectDtmf');
  return upper;
}
