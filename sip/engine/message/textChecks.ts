function isControl(c: number): boolean {
  return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f;
}

/**
 * True when text holds C0 controls other than TAB/CR/LF, or DEL, anywhere but in a quoted-pair
 * inside a quoted string (RFC 3261 25.1 lets `\` escape them there; RFC 4475 3.1.1.2 uses that).
 * Binary data almost always trips this.
 */
export function hasControlChars(text: string): boolean {
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) inQuotes = false;
    else if (inQuotes && c === 0x5c) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x0a || next === 0x0d) return true;
      i++;
    } else if (c === 0x22) inQuotes = !inQuotes;
    else if (isControl(c)) return true;
  }
  return false;
}

/** True when text is printable ASCII or TAB only: safe to echo into a header we send. */
export function isPrintableAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c > 0x7e) return false;
  }
  return true;
}
