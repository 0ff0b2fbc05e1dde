import type { SipMessage } from '../message/messageTypes.js';
import { parseMessage } from '../message/parseMessage.js';

const CONTENT_LENGTH_LINE = /^(?:content-length|l)[ \t]*:.*(?:\r?\n|$)/gim;

/**
 * Parses a SIP message an app sent. drachtio-srf writes Content-Length as the body's length in
 * UTF-16 units, not bytes, so for any non-ASCII body it is wrong; the body is everything after the
 * blank line (the wire frame already delimits it) and the length is recomputed on sending.
 */
export function parseAppSip(rawSip: string): SipMessage {
  const split = /\r?\n\r?\n/.exec(rawSip);
  const head = split ? rawSip.slice(0, split.index) : rawSip;
  const rest = split ? rawSip.slice(split.index) : '';
  const cleaned = `${`${head}\r\n`.replace(CONTENT_LENGTH_LINE, '').replace(/\r?\n$/, '')}${rest}`;
  return parseMessage(Buffer.from(cleaned, 'utf8'), { partial: true });
}
