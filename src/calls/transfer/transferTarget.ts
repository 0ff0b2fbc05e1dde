import { z } from 'zod';
import { E164 } from '../../config/sipSchema.js';

/** A sip: or sips: URI with a host, no spaces, angle brackets or quotes: `sip:alice@pbx.example;transport=tcp`. */
export const SIP_URI = /^sips?:(?:[^\s<>"@]+@)?[A-Za-z0-9.\-[\]:]+(?:;[^\s<>"]*)?$/;

/** Where a transfer (action or verb) sends the call: an E.164 number or a SIP URI. */
export const transferTargetSchema = z
  .string()
  .max(512)
  .refine((value) => E164.test(value) || SIP_URI.test(value), {
    message: 'an E.164 number such as +15550100, or a sip: URI such as sip:alice@pbx.example',
  });

/**
 * The user part of a Refer-To URI a far end sent, when it is a number we can dial through a
 * trunk (`sip:+15550123@pbx;user=phone` → `+15550123`); undefined otherwise.
 */
export function dialableUser(uri: string): string | undefined {
  const match = /^sips?:([^@;?]+)@/i.exec(uri);
  if (!match?.[1]) return undefined;
  let user: string;
  try {
    user = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  return /^\+?[0-9]{2,15}$/.test(user) ? user : undefined;
}
