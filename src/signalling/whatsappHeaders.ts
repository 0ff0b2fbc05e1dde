/**
 * The x-wa-meta-* headers Meta's SIP edge puts on a WhatsApp call's INVITE (and some on its 200 and
 * BYE), by the name the call's `metadata.whatsapp` gives each.
 */
export const WHATSAPP_INVITE_HEADERS = {
  wacid: 'x-wa-meta-wacid',
  userId: 'x-wa-meta-user-id',
  userName: 'x-wa-meta-user-name',
  countryCode: 'x-wa-meta-user-country-code',
  ctaPayload: 'x-wa-meta-cta-payload',
  deeplinkPayload: 'x-wa-meta-deeplink-payload',
} as const;

/** Meta's BYE says how long the call lasted, in seconds. */
export const WHATSAPP_DURATION_HEADER = 'x-wa-meta-call-duration';

export type WhatsAppCallInfo = Partial<Record<keyof typeof WHATSAPP_INVITE_HEADERS, string>>;

/** A payload the business set in a CTA can be long; more than this is not a header we keep. */
const MAX_VALUE_LENGTH = 2048;

/** The x-wa-meta-* values of a request, under their metadata names; absent headers are left out. */
export function whatsappInfoOf(header: (name: string) => string | undefined): WhatsAppCallInfo {
  const info: WhatsAppCallInfo = {};
  for (const [key, name] of Object.entries(WHATSAPP_INVITE_HEADERS) as [keyof WhatsAppCallInfo, string][]) {
    const value = header(name)?.trim();
    if (value) info[key] = value.slice(0, MAX_VALUE_LENGTH);
  }
  return info;
}

/** The same values as room participant attributes, named as LiveKit names SIP headers (`sip.h.<name>`). */
export function whatsappAttributes(info: WhatsAppCallInfo): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, name] of Object.entries(WHATSAPP_INVITE_HEADERS) as [keyof WhatsAppCallInfo, string][]) {
    const value = info[key];
    if (value !== undefined) attributes[`sip.h.${name}`] = value;
  }
  return attributes;
}
