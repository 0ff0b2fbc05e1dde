import type { SipMessage } from '../message/messageTypes.js';
import type { SipHeaders } from '../message/sipHeaders.js';

/**
 * Copies the app's headers onto an outgoing message, except those the server owns (drachtio-server
 * fills or refuses them: Via, Content-Length, and whatever `owned` lists).
 */
export function copyAppHeaders(from: SipMessage, to: SipHeaders, owned: readonly string[]): void {
  const skip = new Set(['via', 'content-length', ...owned.map((h) => h.toLowerCase())]);
  for (const { name, value } of from.headers.entries()) {
    if (skip.has(name.toLowerCase())) continue;
    to.append(name, value);
  }
}

/** Content-Type application/sdp when the body is SDP and the app named no type. */
export function defaultContentType(message: SipMessage): void {
  if (message.body.length === 0 || message.headers.has('Content-Type')) return;
  if (message.body.subarray(0, 4).toString('latin1').startsWith('v=0')) {
    message.headers.append('Content-Type', 'application/sdp');
  }
}

/** A random tag / id fragment. */
export function randomToken(newId: () => string): string {
  return newId().replace(/-/g, '').slice(0, 16);
}
