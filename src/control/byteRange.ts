/**
 * What to send of a resource `size` bytes long, given a request's Range header (RFC 9110 §14):
 * - full: the whole resource, 200;
 * - partial: bytes start..end (inclusive), 206 with `Content-Range: bytes start-end/size`;
 * - unsatisfiable: 416, with a Content-Range that gives only the size (`bytes *` and `/size`).
 */
export type ByteRange =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const FULL: ByteRange = { kind: 'full' };
const UNSATISFIABLE: ByteRange = { kind: 'unsatisfiable' };
const SPEC = /^(\d*)-(\d*)$/;

/**
 * One byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n`. A header this server does not serve
 * (absent, another unit, malformed, or several ranges) is ignored, as RFC 9110 allows: the whole
 * resource is sent. A last position past the end is cut to the end; a range that starts past the
 * end, or a suffix of 0 bytes, is unsatisfiable (so is every range of an empty resource).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return FULL;
  const equals = header.indexOf('=');
  if (equals < 0 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return FULL;
  const specs = header
    .slice(equals + 1)
    .split(',')
    .map((spec) => spec.trim())
    .filter((spec) => spec !== '');
  if (specs.length !== 1) return FULL;
  const match = SPEC.exec(specs[0] as string);
  if (!match) return FULL;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return FULL;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}
