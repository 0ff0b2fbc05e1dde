/**
 * Splits a comma-joined header list (`<sip:a;lr>, <sip:b;lr>`) into its values. Commas inside
 * `<…>` or quotes belong to a value, not between values.
 */
export function splitHeaderList(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' && text[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ',') {
      values.push(text.slice(start, i));
      start = i + 1;
    }
  }
  values.push(text.slice(start));
  return values.map((value) => value.trim()).filter((value) => value !== '');
}
