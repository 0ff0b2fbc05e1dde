import type { SipMessage } from './messageTypes.js';

/**
 * Wire bytes of a message. Content-Length is always written from the actual body, replacing
 * whatever the message carried, so a body edit can never produce a misframed message.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const startLine =
    msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  let head = `${startLine}\r\n`;
  for (const { name, value } of msg.headers.entries()) {
    if (name === 'Content-Length') continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const headBytes = Buffer.from(head, 'utf8');
  return msg.body.length === 0 ? headBytes : Buffer.concat([headBytes, msg.body]);
}
