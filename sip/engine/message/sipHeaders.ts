import { canonicalHeaderName, headerKey, isListHeader } from './headerNames.js';
import { splitHeaderValues } from './splitHeaderValues.js';

export interface SipHeaderLine {
  /** Canonical name (compact forms expanded). */
  name: string;
  /** Value as received, unfolded and trimmed; may hold several comma-separated values. */
  value: string;
}

/**
 * Ordered header lines of a message. Lines are kept as received (one entry per line) so that
 * serialising an unmodified message reproduces its header order; the accessors give the
 * per-value view (`getAll`) that RFC 3261 7.3.1 says is equivalent.
 */
/** A line plus its lower-cased canonical name, computed once since lookups are frequent. */
interface KeyedLine extends SipHeaderLine {
  key: string;
}

function keyed(name: string, value: string): KeyedLine {
  const canonical = canonicalHeaderName(name);
  return { name: canonical, value, key: canonical.toLowerCase() };
}

export class SipHeaders {
  private readonly lines: KeyedLine[];

  constructor(lines: Iterable<SipHeaderLine> = []) {
    this.lines = [...lines].map((l) => keyed(l.name, l.value));
  }

  clone(): SipHeaders {
    return new SipHeaders(this.lines);
  }

  entries(): readonly SipHeaderLine[] {
    return this.lines;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.lines.some((l) => l.key === key);
  }

  /** First value of the header (first element of the first line for list headers). */
  get(name: string): string | undefined {
    return this.getAll(name)[0];
  }

  /** Every value of the header across all its lines, split on top-level commas for list headers. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const split = isListHeader(name);
    const out: string[] = [];
    for (const line of this.lines) {
      if (line.key !== key) continue;
      if (split) out.push(...splitHeaderValues(line.value));
      else out.push(line.value);
    }
    return out;
  }

  /** Raw lines of a header, unsplit. */
  lineValues(name: string): string[] {
    const key = headerKey(name);
    return this.lines.filter((l) => l.key === key).map((l) => l.value);
  }

  /** Replaces every line of the header with one line per given value (none removes it). */
  set(name: string, ...values: string[]): this {
    const key = headerKey(name);
    const at = this.lines.findIndex((l) => l.key === key);
    this.remove(name);
    const fresh = values.map((value) => keyed(name, value));
    if (at < 0) this.lines.push(...fresh);
    else this.lines.splice(at, 0, ...fresh);
    return this;
  }

  append(name: string, value: string): this {
    this.lines.push(keyed(name, value));
    return this;
  }

  /** Inserts a value above all existing values of the header (how Via and Record-Route grow). */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    const at = this.lines.findIndex((l) => l.key === key);
    const line = keyed(name, value);
    if (at < 0) this.lines.push(line);
    else this.lines.splice(at, 0, line);
    return this;
  }

  remove(name: string): this {
    const key = headerKey(name);
    for (let i = this.lines.length - 1; i >= 0; i--) {
      if (this.lines[i]?.key === key) this.lines.splice(i, 1);
    }
    return this;
  }

  /**
   * Replaces the first value of a list header, keeping the others, even when several values share
   * one line (needed to stamp received/rport on the top Via or to pop it).
   */
  replaceFirst(name: string, value: string | null): this {
    const key = headerKey(name);
    const at = this.lines.findIndex((l) => l.key === key);
    const line = this.lines[at];
    if (!line) {
      if (value !== null) this.append(name, value);
      return this;
    }
    const values = splitHeaderValues(line.value);
    if (value === null) values.shift();
    else values[0] = value;
    if (values.length === 0) this.lines.splice(at, 1);
    else line.value = values.join(', ');
    return this;
  }
}
