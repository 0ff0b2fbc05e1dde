/** Joins lines with CRLF and appends the blank line; the body follows it verbatim. */
export function sipText(lines: string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export function inviteLines(overrides: Record<string, string | null> = {}): string[] {
  const base: Array<[string, string]> = [
    ['Via', 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds'],
    ['Max-Forwards', '70'],
    ['To', 'Bob <sip:bob@example.com>'],
    ['From', 'Alice <sip:alice@example.org>;tag=1928301774'],
    ['Call-ID', 'a84b4c76e66710@pc33.example.org'],
    ['CSeq', '314159 INVITE'],
    ['Contact', '<sip:alice@192.0.2.10>'],
  ];
  const lines = ['INVITE sip:bob@example.com SIP/2.0'];
  for (const [name, value] of base) {
    if (name in overrides) {
      const v = overrides[name];
      if (v !== null && v !== undefined) lines.push(`${name}: ${v}`);
    } else lines.push(`${name}: ${value}`);
  }
  return lines;
}
