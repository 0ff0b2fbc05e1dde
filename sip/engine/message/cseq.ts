import { SipParseError } from './sipParseError.js';

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(text: string): CSeq {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9\-.!%*_+`'~]+)\s*$/.exec(text);
  if (!m) throw new SipParseError('bad CSeq');
  const seq = Number(m[1]);
  // RFC 3261 8.1.1.5: the sequence number must fit in 32 bits.
  if (seq > 0xffffffff) throw new SipParseError('CSeq number too large');
  return { seq, method: m[2] ?? '' };
}

export function formatCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}
