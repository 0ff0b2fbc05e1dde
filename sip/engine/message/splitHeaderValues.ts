/**
 * Splits a header value on top-level commas. Commas inside quoted strings, inside <...> and
 * inside a quoted-pair are part of the value (e.g. a display name "Doe, John" or a URI header).
 */
export function splitHeaderValues(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuotes) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuotes = false;
    } else if (ch === '"') {
      inQuotes = true;
    } else if (ch === '<') {
      inAngle = true;
    } else if (ch === '>') {
      inAngle = false;
    } else if (ch === ',' && !inAngle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}
