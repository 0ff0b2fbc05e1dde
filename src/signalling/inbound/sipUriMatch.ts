interface ParsedSipUri {
  scheme: string;
  userinfo: string | undefined;
  host: string;
  port: string | undefined;
  params: Map<string, string>;
  headers: Map<string, string>;
}

/** `%41` → `A`; a malformed escape leaves the text as it is. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function pairs(text: string | undefined, separator: string): Map<string, string> {
  const map = new Map<string, string>();
  if (!text) return map;
  for (const pair of text.split(separator)) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decoded(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    map.set(name, decoded(eq < 0 ? '' : pair.slice(eq + 1)));
  }
  return map;
}

const SIP_URI = /^(sips?):(?:([^@]*)@)?(\[[^\]]+\]|[^:;?]+)(?::(\d+))?((?:;[^?]*)?)(?:\?(.*))?$/i;

function parse(uri: string): ParsedSipUri | undefined {
  const match = SIP_URI.exec(uri.trim());
  if (!match?.[1] || !match[3]) return undefined;
  return {
    scheme: match[1].toLowerCase(),
    userinfo: match[2] === undefined ? undefined : decoded(match[2]),
    host: match[3].toLowerCase(),
    port: match[4] === undefined ? undefined : String(Number(match[4])),
    params: pairs(match[5]?.slice(1), ';'),
    headers: pairs(match[6], '&'),
  };
}

/** uri-parameters that must be equal when either URI has them (RFC 3261 §19.1.4). */
const MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

/**
 * Whether two SIP URIs are equivalent by RFC 3261 §19.1.4: scheme and host compared without case,
 * the user part with case, %-escapes decoded; a port only equals the same explicit port (sip:a@h
 * is not sip:a@h:5060); user, ttl, method, maddr and transport parameters must be equal when either
 * side has them, other parameters only where both have them (without case); header components
 * must be the same set. Anything that is not a sip:/sips: URI (tel:, garbage) must be the same
 * string.
 */
export function sameSipUri(a: string, b: string): boolean {
  if (a === b) return true;
  const left = parse(a);
  const right = parse(b);
  if (!left || !right) return false;
  if (left.scheme !== right.scheme || left.userinfo !== right.userinfo) return false;
  if (left.host !== right.host || left.port !== right.port) return false;
  for (const name of MUST_MATCH) {
    if (left.params.get(name)?.toLowerCase() !== right.params.get(name)?.toLowerCase()) return false;
  }
  for (const [name, value] of left.params) {
    const other = right.params.get(name);
    if (other !== undefined && other.toLowerCase() !== value.toLowerCase()) return false;
  }
  if (left.headers.size !== right.headers.size) return false;
  for (const [name, value] of left.headers) if (right.headers.get(name) !== value) return false;
  return true;
}
