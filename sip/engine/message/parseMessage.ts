import { parseCSeq } from './cseq.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  type ParseOptions,
  type SipMessage,
} from './messageTypes.js';
import { parseNameAddr } from './nameAddr.js';
import { type SipHeaderLine, SipHeaders } from './sipHeaders.js';
import { SipParseError } from './sipParseError.js';
import { hasUriScheme, parseSipUri } from './sipUri.js';
import { hasControlChars } from './textChecks.js';
import { parseVia } from './via.js';

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) ([Ss][Ii][Pp]\/\d+\.\d+)$/;
const STATUS_LINE = /^[Ss][Ii][Pp]\/(\d+\.\d+) (\d{3})(?: (.*))?$/;
const REQUEST_MANDATORY = ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards'];
const RESPONSE_MANDATORY = ['Via', 'From', 'To', 'Call-ID', 'CSeq'];
const SINGLE_VALUED = ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length'];
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const LF_LF = Buffer.from('\n\n');

/** Index of the first byte after leading CRLFs, which RFC 3261 7.5 says to ignore. */
function skipLeadingNewlines(buf: Buffer): number {
  let i = 0;
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
  return i;
}

/** Locates the blank line ending the headers: `{ headerEnd, bodyStart }` or undefined. */
export function findHeaderEnd(buf: Buffer, from = 0): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buf.indexOf(CRLF_CRLF, from);
  // Bare LF line endings are tolerated on receipt (some test tools emit them).
  const lf = buf.indexOf(LF_LF, from);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headerEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Header text. SIP says UTF-8, but carriers send ISO-8859-1 display names and subjects (`José` as
 * one 0xE9 byte), and drachtio-server takes them: a header section that is not UTF-8 is read as
 * Latin-1, byte for byte, so the call goes on and the app sees the name as the caller meant it.
 * Only control characters make headers unreadable.
 */
function decodeHeaderSection(bytes: Buffer): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    text = bytes.toString('latin1');
  }
  if (hasControlChars(text)) throw new SipParseError('binary data in headers');
  return text;
}

/** Joins continuation lines (RFC 3261 7.3.1 folding) and splits `name: value`. */
function parseHeaderLines(lines: string[]): SipHeaderLine[] {
  const out: SipHeaderLine[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      const prev = out[out.length - 1];
      if (!prev) throw new SipParseError('continuation line before first header');
      prev.value = `${prev.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError('malformed header line');
    const name = line.slice(0, colon).trimEnd();
    if (!TOKEN.test(name)) throw new SipParseError('bad header name');
    out.push({ name, value: line.slice(colon + 1).trim() });
  }
  return out;
}

function checkVersion(version: string): void {
  if (version.toUpperCase() !== 'SIP/2.0' && version !== '2.0') {
    throw new SipParseError('Version Not Supported', 505);
  }
}

function validateCommon(headers: SipHeaders, mandatory: string[]): void {
  for (const name of mandatory) {
    if (!headers.has(name)) throw new SipParseError(`missing ${name} header`);
  }
  for (const name of SINGLE_VALUED) {
    if (headers.lineValues(name).length > 1) throw new SipParseError(`multiple ${name} headers`);
  }
  const vias = headers.getAll('Via');
  if (vias.length === 0) throw new SipParseError('missing Via header');
  for (const v of vias) parseVia(v);
  for (const name of ['From', 'To']) {
    try {
      parseNameAddr(headers.get(name) ?? '');
    } catch {
      throw new SipParseError(`bad ${name} header`);
    }
  }
  const callId = headers.get('Call-ID') ?? '';
  if (callId === '' || /\s/.test(callId)) throw new SipParseError('bad Call-ID header');
  for (const contact of headers.getAll('Contact')) {
    if (contact === '*') continue;
    try {
      parseNameAddr(contact);
    } catch {
      throw new SipParseError('bad Contact header');
    }
  }
}

function parseContentLength(headers: SipHeaders): number | undefined {
  const raw = headers.lineValues('Content-Length')[0];
  if (raw === undefined) return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw new SipParseError('bad Content-Length');
  return Number(raw);
}

function sliceBody(
  buf: Buffer,
  bodyStart: number,
  contentLength: number | undefined,
  opts: ParseOptions,
): Buffer {
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const available = buf.length - bodyStart;
  if (contentLength === undefined) {
    if (opts.requireContentLength) throw new SipParseError('missing Content-Length');
    if (available > maxBody) throw new SipParseError('body too large', 413);
    return Buffer.from(buf.subarray(bodyStart));
  }
  if (contentLength > maxBody) throw new SipParseError('body too large', 413);
  if (available < contentLength) throw new SipParseError('body shorter than Content-Length');
  // RFC 3261 18.3: bytes beyond Content-Length in a datagram are discarded.
  return Buffer.from(buf.subarray(bodyStart, bodyStart + contentLength));
}

function validateRequest(headers: SipHeaders, method: string): void {
  validateCommon(headers, REQUEST_MANDATORY);
  const cseq = parseCSeq(headers.get('CSeq') ?? '');
  if (cseq.method !== method) throw new SipParseError('CSeq method does not match');
  const maxForwards = headers.get('Max-Forwards') ?? '';
  // RFC 3261 20.22 gives no bound, but 70 is the norm and RFC 4475 3.1.2.4 treats >255 as invalid.
  if (!/^\d{1,10}$/.test(maxForwards) || Number(maxForwards) > 255) {
    throw new SipParseError('bad Max-Forwards');
  }
}

/** A header section running to the end of the buffer (trailing line breaks trimmed), no body. */
function headersToEnd(buf: Buffer): { headerEnd: number; bodyStart: number } {
  let end = buf.length;
  while (end > 0 && (buf[end - 1] === 0x0a || buf[end - 1] === 0x0d)) end--;
  return { headerEnd: end, bodyStart: buf.length };
}

function parseUnchecked(buf: Buffer, opts: ParseOptions): SipMessage {
  const start = skipLeadingNewlines(buf);
  if (start === buf.length) throw new SipParseError('empty message');
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const end = findHeaderEnd(buf, start) ?? (opts.partial ? headersToEnd(buf) : undefined);
  if (!end) {
    if (buf.length - start > maxHeader) throw new SipParseError('header section too large', 513);
    throw new SipParseError('missing blank line after headers');
  }
  if (end.headerEnd - start > maxHeader) throw new SipParseError('header section too large', 513);
  const text = decodeHeaderSection(buf.subarray(start, end.headerEnd));
  const [startLine = '', ...lines] = text.split(/\r?\n/);
  const headers = new SipHeaders(parseHeaderLines(lines));
  const contentLength = parseContentLength(headers);

  const status = STATUS_LINE.exec(startLine);
  if (status) {
    checkVersion(status[1] ?? '');
    const code = Number(status[2]);
    if (code < 100 || code > 699) throw new SipParseError('bad status code');
    if (!opts.partial) {
      validateCommon(headers, RESPONSE_MANDATORY);
      parseCSeq(headers.get('CSeq') ?? '');
    }
    const body = sliceBody(buf, end.bodyStart, contentLength, opts);
    return { kind: 'response', status: code, reason: status[3] ?? '', headers, body };
  }

  const request = REQUEST_LINE.exec(startLine);
  if (!request) {
    if (/^SIP\//i.test(startLine)) throw new SipParseError('bad status line');
    throw new SipParseError('bad request line');
  }
  const [, method = '', uri = '', version = ''] = request;
  checkVersion(version);
  if (!hasUriScheme(uri)) throw new SipParseError('bad Request-URI');
  if (/^sips?:/i.test(uri)) {
    try {
      parseSipUri(uri);
    } catch {
      throw new SipParseError('bad Request-URI');
    }
  }
  if (!opts.partial) validateRequest(headers, method);
  const body = sliceBody(buf, end.bodyStart, contentLength, opts);
  return { kind: 'request', method, uri, headers, body };
}

/**
 * Parses one complete SIP message. Every failure surfaces as SipParseError, whatever the input
 * (including bugs in a helper), so a caller's try/catch around it is total.
 */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage {
  try {
    return parseUnchecked(buf, opts);
  } catch (err) {
    if (err instanceof SipParseError) throw err;
    throw new SipParseError('unparseable message');
  }
}
