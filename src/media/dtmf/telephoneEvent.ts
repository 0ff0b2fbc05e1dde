import type { DtmfDigit, TelephoneEvent } from './dtmfTypes.js';

export const TELEPHONE_EVENT_SIZE = 4;
export const FLASH_EVENT = 16;
const DIGITS: readonly DtmfDigit[] = [
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
  '*',
  '#',
  'A',
  'B',
  'C',
  'D',
];

/** A telephone-event payload shorter than its 4 bytes. */
export class TelephoneEventParseError extends Error {
  override readonly name = 'TelephoneEventParseError';
}

/**
 * Parses the first event of an RFC 4733 payload (§2.3): event, E bit, volume, duration. Further
 * 4-byte blocks (redundancy, RFC 4733 §2.5.1.5 via RFC 2198) are not read.
 */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent {
  if (payload.length < TELEPHONE_EVENT_SIZE) {
    throw new TelephoneEventParseError(`telephone-event payload of ${payload.length} bytes, needs 4`);
  }
  const flags = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

/** Writes an event into `out` (4 bytes, allocated when absent) and returns it. */
export function encodeTelephoneEvent(event: TelephoneEvent, out: Uint8Array = new Uint8Array(4)): Uint8Array {
  if (event.event < 0 || event.event > 255) throw new RangeError(`event ${event.event}`);
  out[0] = event.event;
  out[1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  const duration = Math.min(0xffff, Math.max(0, Math.round(event.duration)));
  out[2] = duration >> 8;
  out[3] = duration & 0xff;
  return out;
}

/** The digit of a DTMF event code, or undefined for flash and non-DTMF tones. */
export function eventToDigit(event: number): DtmfDigit | undefined {
  return DIGITS[event];
}

/** The event code of a digit (case-insensitive for A–D); undefined for anything else. */
export function digitToEvent(digit: string): number | undefined {
  const index = DIGITS.indexOf(digit.toUpperCase() as DtmfDigit);
  return index >= 0 ? index : undefined;
}

/** Whether `value` is one or more DTMF digits (A–D in either case): the one check of them. */
export function isDtmfDigits(value: string): boolean {
  return value.length > 0 && [...value].every((digit) => digitToEvent(digit) !== undefined);
}

/** One digit as the APIs write it (A–D upper case), for schemas that publish the pattern. */
export const DTMF_DIGIT_PATTERN = /^[0-9*#A-D]$/;
