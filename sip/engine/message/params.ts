import { SipParseError } from './sipParseError.js';

/** Header or URI parameters; names are lower-cased (they compare case-insensitively), values kept. */
export type SipParams = Map<string, string | null>;

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Splits on a separator outside quoted strings and outside <...>. */
export function splitOutside(text: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') inQuotes = true;
    else if (ch === '<') inAngle = true;
    else if (ch === '>') inAngle = false;
    else if (ch === sep && !inAngle) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/**
 * Parses `;a=1;b;c="x y"` (the leading separator optional). Whitespace around `;` and `=` is
 * legal linear white space in header parameters.
 */
export function parseParams(text: string, what = 'parameter'): SipParams {
  const params: SipParams = new Map();
  const trimmed = text.trim();
  if (trimmed === '') return params;
  const body = trimmed.startsWith(';') ? trimmed.slice(1) : trimmed;
  for (const raw of splitOutside(body, ';')) {
    const part = raw.trim();
    if (part === '') throw new SipParseError(`empty ${what}`);
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (!TOKEN.test(name)) throw new SipParseError(`bad ${what} name`);
    const value = eq < 0 ? null : part.slice(eq + 1).trim();
    if (value !== null && value === '') throw new SipParseError(`empty ${what} value`);
    if (value?.startsWith('"') && !/^"(?:[^"\\]|\\.)*"$/.test(value)) {
      throw new SipParseError(`unterminated quoted ${what}`);
    }
    params.set(name.toLowerCase(), value);
  }
  return params;
}

export function formatParams(params: SipParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}
