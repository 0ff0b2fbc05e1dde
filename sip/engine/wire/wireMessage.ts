import type { WireMessage } from './wireTypes.js';

const CRLF = '\r\n';

export class WireMessageError extends Error {
  override readonly name = 'WireMessageError';
}

/**
 * Splits a frame body into `<msgId>|<type>|<args…>` and the SIP message after the first CRLF,
 * the same split drachtio-srf's `DrachtioAgent#_onMsg` and drachtio-server's `splitMsg` make.
 * Tokens keep empty strings: positions matter (`sip||<dialogId>`).
 */
export function splitWireMessage(body: string): WireMessage {
  const crlf = body.indexOf(CRLF);
  const leader = crlf === -1 ? body : body.slice(0, crlf);
  const tokens = leader.split('|');
  const msgId = tokens[0] ?? '';
  const type = tokens[1];
  if (msgId === '' || type === undefined || type === '') {
    throw new WireMessageError(`message lacks msgId or type: '${leader.slice(0, 80)}'`);
  }
  const message: WireMessage = { msgId, type, args: tokens.slice(2) };
  if (crlf !== -1) message.sip = body.slice(crlf + CRLF.length);
  return message;
}

/** Joins a leader and an optional SIP message into a frame body. */
export function joinWireMessage(tokens: readonly string[], sip?: string): string {
  const leader = tokens.join('|');
  return sip === undefined ? leader : `${leader}${CRLF}${sip}`;
}
