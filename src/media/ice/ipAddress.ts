import { isIPv4, isIPv6 } from 'node:net';

/**
 * IP addresses as bytes and back. STUN carries addresses as bytes (XOR-MAPPED-ADDRESS), and
 * candidates are matched against the source of datagrams, which node:dgram reports in RFC 5952
 * form; so SDP addresses are brought to that same form before they are compared.
 */

/** The 4 or 16 bytes of an IP address, or null if it is not one (a zone such as `%eth0` is dropped). */
export function addressBytes(address: string): Buffer | null {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const bare = address.split('%')[0] ?? '';
  if (!isIPv6(bare)) return null;
  const [head = '', tail] = bare.split('::');
  const headGroups = groupsOf(head);
  const tailGroups = tail === undefined ? [] : groupsOf(tail);
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...new Array<number>(zeros).fill(0), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => {
    out.writeUInt16BE(group, i * 2);
  });
  return out;
}

/** The 16-bit groups of one side of `::`; an embedded dotted IPv4 tail counts as two groups. */
function groupsOf(part: string): number[] {
  if (part === '') return [];
  const groups: number[] = [];
  for (const piece of part.split(':')) {
    if (piece.includes('.')) {
      const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
      groups.push((a << 8) | b, (c << 8) | d);
    } else {
      groups.push(Number.parseInt(piece, 16));
    }
  }
  return groups;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 §5), as node:dgram writes them.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; i++) {
    let run = 0;
    while (i + run < 8 && groups[i + run] === 0) run++;
    if (run > bestLength) [bestStart, bestLength] = [i, run];
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The address in the form node:dgram reports it, or null if it is not an IP address. */
export function canonicalAddress(address: string): string | null {
  const bytes = addressBytes(address);
  return bytes ? formatAddress(bytes) : null;
}
