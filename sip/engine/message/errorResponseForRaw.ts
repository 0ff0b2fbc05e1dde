import { reasonPhrase } from './reasonPhrases.js';
import type { SipParseError } from './sipParseError.js';
import { isPrintableAscii } from './textChecks.js';

const WANTED: Readonly<Record<string, string>> = {
  via: 'Via',
  v: 'Via',
  from: 'From',
  f: 'From',
  to: 'To',
  t: 'To',
  'call-id': 'Call-ID',
  i: 'Call-ID',
  cseq: 'CSeq',
};

/**
 * Best-effort error response to a request that failed to parse, built from its raw header lines
 * (RFC 3261 8.2: reject with 400 and say why). Returns undefined when there is nothing one could
 * route a response with: a response, an ACK (never answered), or no usable Via.
 */
export function errorResponseForRaw(raw: Buffer, err: SipParseError): Buffer | undefined {
  const text = raw.subarray(0, 64 * 1024).toString('latin1');
  const lines = text.split(/\r?\n/);
  let first = 0;
  while (first < lines.length && lines[first] === '') first++;
  const startLine = lines[first] ?? '';
  const m = /^([A-Za-z0-9\-.!%*_+`'~]+)\s/.exec(startLine);
  if (!m || /^SIP\//i.test(startLine) || m[1]?.toUpperCase() === 'ACK') return undefined;
  const picked: string[] = [];
  let sawVia = false;
  for (let i = first + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = WANTED[line.slice(0, colon).trim().toLowerCase()];
    // Only printable ASCII is echoed back, so a garbage request cannot make us emit garbage.
    const value = line.slice(colon + 1).trim();
    if (!name || !isPrintableAscii(value) || value === '') continue;
    if (name === 'Via') sawVia = true;
    picked.push(`${name}: ${value}`);
  }
  if (!sawVia) return undefined;
  const reason = (isPrintableAscii(err.reason) ? err.reason : 'Bad Request') || reasonPhrase(err.status);
  return Buffer.from(
    `SIP/2.0 ${err.status} ${reason}\r\n${picked.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`,
  );
}
