/**
 * SIP messages as text, for the stand-ins in test/support: just enough parsing and writing to
 * relay a call (request/status line, headers in order with repeats, body).
 */
export interface SipText {
  /** `INVITE sip:… SIP/2.0` or `SIP/2.0 200 OK`. */
  startLine: string;
  headers: [string, string][];
  body: string;
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  l: 'content-length',
  m: 'contact',
  c: 'content-type',
};

export function parseSip(raw: string): SipText | null {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return null;
  const [startLine = '', ...lines] = raw.slice(0, split).split('\r\n');
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { startLine, headers, body: raw.slice(split + 4) };
}

function canonical(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

export function header(message: SipText, name: string): string | undefined {
  const wanted = canonical(name);
  return message.headers.find(([key]) => canonical(key) === wanted)?.[1];
}

export function headersNamed(message: SipText, name: string): string[] {
  const wanted = canonical(name);
  return message.headers.filter(([key]) => canonical(key) === wanted).map(([, value]) => value);
}

export function isRequest(message: SipText): boolean {
  return !message.startLine.startsWith('SIP/2.0');
}

export function methodOf(message: SipText): string {
  return isRequest(message)
    ? (message.startLine.split(' ')[0] ?? '')
    : (header(message, 'CSeq')?.split(/\s+/)[1] ?? '');
}

export function statusOf(message: SipText): number {
  return Number(message.startLine.split(' ')[1]);
}

export function tagOf(value: string | undefined): string | undefined {
  return value ? /;\s*tag=([^;>\s]+)/i.exec(value)?.[1] : undefined;
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`). */
export function uriOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return /<([^>]+)>/.exec(value)?.[1] ?? value.split(';')[0]?.trim();
}

/** The user part of a name-addr's URI. */
export function userOf(value: string | undefined): string | undefined {
  return uriOf(value)
    ?.replace(/^sips?:/i, '')
    .split('@')[0];
}

export function hostOf(value: string | undefined): string | undefined {
  return uriOf(value)?.split('@')[1]?.split(/[;:>]/)[0];
}

/** Writes a message; Content-Length always matches the body. */
export function writeSip(startLine: string, headers: [string, string][], body = ''): string {
  const lines = headers
    .filter(([name]) => canonical(name) !== 'content-length')
    .map(([name, value]) => `${name}: ${value}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${startLine}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A response to a request: its Via, From, To (with our tag if given), Call-ID and CSeq. */
export function responseTo(
  request: SipText,
  status: number,
  reason: string,
  options: { toTag?: string; headers?: [string, string][]; body?: string } = {},
): string {
  const to = header(request, 'To') ?? '';
  const headers: [string, string][] = [
    ...headersNamed(request, 'Via').map((via): [string, string] => ['Via', via]),
    ['From', header(request, 'From') ?? ''],
    ['To', options.toTag && !tagOf(to) ? `${to};tag=${options.toTag}` : to],
    ['Call-ID', header(request, 'Call-ID') ?? ''],
    ['CSeq', header(request, 'CSeq') ?? ''],
    ...(options.headers ?? []),
  ];
  return writeSip(`SIP/2.0 ${status} ${reason}`, headers, options.body ?? '');
}
