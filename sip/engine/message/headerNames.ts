/** Compact forms (RFC 3261 7.3.3 plus later RFCs) mapped to their full header names. */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'Call-ID',
  m: 'Contact',
  f: 'From',
  t: 'To',
  v: 'Via',
  l: 'Content-Length',
  c: 'Content-Type',
  k: 'Supported',
  s: 'Subject',
  e: 'Content-Encoding',
  o: 'Event',
  u: 'Allow-Events',
  r: 'Refer-To',
  b: 'Referred-By',
  x: 'Session-Expires',
  y: 'Identity',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  n: 'Identity-Info',
};

/** Spellings that a simple Title-Case rule would get wrong. */
const SPECIAL_SPELLINGS: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

const KNOWN_NAMES = [
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Contact',
  'Max-Forwards',
  'Content-Length',
  'Content-Type',
  'Route',
  'Record-Route',
  'Allow',
  'Supported',
  'Require',
  'Proxy-Require',
  'Unsupported',
  'Expires',
  'User-Agent',
  'Server',
  'Authorization',
  'Proxy-Authorization',
  'Proxy-Authenticate',
  'Subject',
  'Event',
  'Allow-Events',
  'Refer-To',
  'Referred-By',
  'Session-Expires',
  'Content-Encoding',
  'Content-Disposition',
  'Accept',
  'Reason',
  'Timestamp',
  'Min-Expires',
  'Retry-After',
  'Warning',
];
const KNOWN_BY_LOWER = new Map<string, string>(KNOWN_NAMES.map((n) => [n.toLowerCase(), n]));

/**
 * Canonical spelling of a header name: compact forms expanded, well-known names in their RFC
 * spelling. Unknown extension headers keep the sender's spelling, since applications match them
 * case-insensitively anyway and some peers are picky about seeing their own spelling echoed.
 */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const full = COMPACT_FORMS[lower];
    if (full) return full;
  }
  return SPECIAL_SPELLINGS[lower] ?? KNOWN_BY_LOWER.get(lower) ?? name;
}

/** Key used for case-insensitive, compact-form-insensitive comparison of header names. */
export function headerKey(name: string): string {
  return canonicalHeaderName(name).toLowerCase();
}

/**
 * Headers whose grammar is not a comma-separated list (or whose values contain unquoted commas),
 * so a line of them must never be split on commas.
 */
const NON_LIST_HEADERS = new Set([
  'www-authenticate',
  'authorization',
  'proxy-authenticate',
  'proxy-authorization',
  'authentication-info',
  'date',
  'retry-after',
  'subject',
  'user-agent',
  'server',
  'call-id',
  'cseq',
  'content-length',
  'content-type',
  'max-forwards',
  'expires',
  'min-expires',
  'timestamp',
  'organization',
  'priority',
  'reply-to',
  'in-reply-to',
  'mime-version',
  'from',
  'to',
  'refer-to',
  'referred-by',
  'session-expires',
  'min-se',
  'content-disposition',
  'rack',
  'rseq',
  'identity',
  'identity-info',
]);

export function isListHeader(name: string): boolean {
  return !NON_LIST_HEADERS.has(headerKey(name));
}
