import type { MediaDescription } from 'sdp-transform';
import { STATIC_PAYLOAD_TYPES } from './codecCatalog.js';

/** One payload type of an m= line, with its rtpmap resolved (explicit or RFC 3551 static). */
export interface OfferedFormat {
  payloadType: number;
  encodingName: string;
  clockRate: number;
  channels: number;
  /** Raw a=fmtp value, or null. */
  fmtp: string | null;
}

/**
 * The formats of an m= line in the order the peer listed them. A payload type without an
 * a=rtpmap is kept only when RFC 3551 defines it statically; unknown ones are skipped.
 */
export function offeredFormats(media: MediaDescription): OfferedFormat[] {
  const formats: OfferedFormat[] = [];
  const listed = String(media.payloads ?? '')
    .split(' ')
    .filter((token) => /^\d{1,3}$/.test(token))
    .map(Number);
  for (const payloadType of listed) {
    const rtpmap = media.rtp.find((entry) => entry.payload === payloadType);
    const fmtp = media.fmtp.find((entry) => entry.payload === payloadType)?.config ?? null;
    if (rtpmap) {
      formats.push({
        payloadType,
        encodingName: rtpmap.codec,
        clockRate: rtpmap.rate ?? 8000,
        channels: rtpmap.encoding ?? 1,
        fmtp,
      });
      continue;
    }
    const known = STATIC_PAYLOAD_TYPES.get(payloadType);
    if (known) formats.push({ payloadType, ...known, channels: 1, fmtp });
  }
  return formats;
}

/** `a=fmtp` key=value pairs; keys lower-cased because RFC 7587 says they are case-insensitive. */
export function fmtpParameters(fmtp: string | null): Map<string, string> {
  const parameters = new Map<string, string>();
  if (!fmtp) return parameters;
  for (const pair of fmtp.split(';')) {
    const [key, value] = pair.split('=', 2);
    if (!key?.trim()) continue;
    parameters.set(key.trim().toLowerCase(), (value ?? '').trim());
  }
  return parameters;
}
