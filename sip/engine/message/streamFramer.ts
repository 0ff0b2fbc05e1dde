import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADER_BYTES } from './messageTypes.js';
import { findHeaderEnd } from './parseMessage.js';
import { SipParseError } from './sipParseError.js';

export type FramedItem =
  | { type: 'message'; data: Buffer }
  /** RFC 5626 4.4.1: a CRLFCRLF ping, to be answered with a single CRLF pong. */
  | { type: 'ping' }
  /**
   * `head` holds the header section (or its first maxHeaderBytes) when one arrived, so the
   * receiver can still answer the request with an error response before closing.
   */
  | { type: 'error'; error: SipParseError; head?: Buffer };

export interface StreamFramerOptions {
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
}

const CONTENT_LENGTH_LINE = /^(?:content-length|l)[ \t]*:[ \t]*(.*)$/im;

/**
 * Cuts a TCP/TLS byte stream into SIP messages by Content-Length (RFC 3261 18.3). After an error
 * the stream has no trustworthy boundary any more, so the framer stays failed and the connection
 * should be closed.
 */
export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;

  constructor(opts: StreamFramerOptions = {}) {
    this.maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Bytes held waiting for the rest of a message. */
  get pending(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): FramedItem[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FramedItem[] = [];
    for (;;) {
      const item = this.next();
      if (!item) break;
      out.push(item);
      if (item.type === 'error') {
        this.failed = true;
        this.buffer = Buffer.alloc(0);
        break;
      }
    }
    return out;
  }

  private next(): FramedItem | undefined {
    let i = 0;
    while (i < this.buffer.length && (this.buffer[i] === 0x0d || this.buffer[i] === 0x0a)) i++;
    if (i > 0) {
      const lead = this.buffer.subarray(0, Math.min(i, 4)).toString('latin1');
      if (lead === '\r\n\r\n') {
        this.buffer = this.buffer.subarray(4);
        return { type: 'ping' };
      }
      // A partial ping may still complete with the next chunk; anything else is a stray
      // keep-alive (e.g. a CRLF pong) to drop.
      if (i === this.buffer.length && '\r\n\r\n'.startsWith(lead)) return undefined;
      this.buffer = this.buffer.subarray(i);
    }
    if (this.buffer.length === 0) return undefined;
    const end = findHeaderEnd(this.buffer);
    const fail = (error: SipParseError, headEnd: number): FramedItem => ({
      type: 'error',
      error,
      head: Buffer.from(this.buffer.subarray(0, Math.min(headEnd, this.maxHeaderBytes))),
    });
    if (!end) {
      if (this.buffer.length > this.maxHeaderBytes) {
        return fail(new SipParseError('header section too large', 513), this.buffer.length);
      }
      return undefined;
    }
    if (end.headerEnd > this.maxHeaderBytes) {
      return fail(new SipParseError('header section too large', 513), end.headerEnd);
    }
    const head = this.buffer.subarray(0, end.headerEnd).toString('latin1');
    const m = CONTENT_LENGTH_LINE.exec(head);
    if (!m) return fail(new SipParseError('missing Content-Length'), end.bodyStart);
    const lengthText = (m[1] ?? '').trim();
    if (!/^\d{1,10}$/.test(lengthText)) return fail(new SipParseError('bad Content-Length'), end.bodyStart);
    const length = Number(lengthText);
    if (length > this.maxBodyBytes) return fail(new SipParseError('body too large', 413), end.bodyStart);
    const total = end.bodyStart + length;
    if (this.buffer.length < total) return undefined;
    const data = Buffer.from(this.buffer.subarray(0, total));
    this.buffer = this.buffer.subarray(total);
    return { type: 'message', data };
  }
}
