import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';

/**
 * Which of `secrets` signed `rawBody`, by Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
 * the raw body>`; null when none did, or the header is missing or malformed. Every secret is
 * compared in constant time, so the time taken says nothing about how close a forgery came.
 */
export function signingSecret(
  rawBody: string,
  header: string | undefined,
  secrets: readonly string[],
): string | null {
  if (!header?.startsWith(PREFIX)) return null;
  const hex = header.slice(PREFIX.length).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const given = Buffer.from(hex, 'hex');
  let found: string | null = null;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody, 'utf8').digest();
    if (timingSafeEqual(expected, given) && found === null) found = secret;
  }
  return found;
}

/** The header value for `rawBody` signed with `secret` (what Meta sends; tests sign with it). */
export function signatureOf(rawBody: string, secret: string): string {
  return `${PREFIX}${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}
