import type { IceCandidate, IceCandidateType } from './iceTypes.js';
import { canonicalAddress } from './ipAddress.js';

/** Type preferences RFC 8445 §5.1.2.2 recommends. */
export const TYPE_PREFERENCE: Record<IceCandidateType, number> = {
  host: 126,
  prflx: 110,
  srflx: 100,
  relay: 0,
};

/** Our single host candidate has nothing to be preferred over, so it takes the top local preference. */
export const LOCAL_PREFERENCE = 65535;

const TYPES = new Set<string>(['host', 'srflx', 'prflx', 'relay']);
const FOUNDATION = /^[A-Za-z0-9+/]{1,32}$/;

/** RFC 8445 §5.1.2.1: 2^24·type preference + 2^8·local preference + (256 − component id). */
export function candidatePriority(
  typePreference: number,
  localPreference: number,
  component: number,
): number {
  return typePreference * 2 ** 24 + localPreference * 2 ** 8 + (256 - component);
}

/**
 * RFC 8445 §6.1.2.3: 2^32·MIN(G,D) + 2·MAX(G,D) + (G>D ? 1 : 0), G the controlling side's
 * candidate priority and D the controlled side's. It needs 64 bits, past Number's 53, so bigint.
 */
export function pairPriority(controlling: number, controlled: number): bigint {
  const g = BigInt(controlling);
  const d = BigInt(controlled);
  const [min, max] = g < d ? [g, d] : [d, g];
  return (min << 32n) + 2n * max + (g > d ? 1n : 0n);
}

/** Our host candidate: component 1 (rtcp-mux, BUNDLE), foundation 1, since it is the only one we have. */
export function hostCandidate(address: string, port: number): IceCandidate {
  return {
    foundation: '1',
    component: 1,
    transport: 'udp',
    priority: candidatePriority(TYPE_PREFERENCE.host, LOCAL_PREFERENCE, 1),
    address,
    port,
    type: 'host',
  };
}

/**
 * Reads the value of an `a=candidate:` line (RFC 8839 §5.1), with or without a leading
 * `candidate:`. Returns null for what the agent cannot use: TCP candidates (RFC 6544), addresses
 * that are not IP literals (FQDNs, mDNS `.local` names, which it does not resolve) and malformed
 * lines. Extension attributes after the type, such as `generation`, are ignored.
 */
export function parseCandidate(value: string): IceCandidate | null {
  const fields = value
    .trim()
    .replace(/^candidate:/i, '')
    .split(/\s+/);
  const [foundation = '', component, transport = '', priority, address = '', port, typ, type = ''] = fields;
  if (!FOUNDATION.test(foundation) || transport.toLowerCase() !== 'udp' || typ !== 'typ') return null;
  const componentId = integer(component, 1, 256);
  const priorityValue = integer(priority, 1, 2 ** 32 - 1);
  const portNumber = integer(port, 0, 65535);
  const ip = canonicalAddress(address);
  if (componentId === null || priorityValue === null || portNumber === null || !ip || !TYPES.has(type)) {
    return null;
  }
  const candidate: IceCandidate = {
    foundation,
    component: componentId,
    transport: 'udp',
    priority: priorityValue,
    address: ip,
    port: portNumber,
    type: type as IceCandidateType,
  };
  for (let i = 8; i + 1 < fields.length; i += 2) {
    const [name, attr] = [fields[i], fields[i + 1] ?? ''];
    if (name === 'raddr') candidate.relatedAddress = attr;
    if (name === 'rport') candidate.relatedPort = integer(attr, 0, 65535) ?? undefined;
  }
  if (candidate.relatedPort === undefined) delete candidate.relatedPort;
  return candidate;
}

function integer(text: string | undefined, min: number, max: number): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/** The value of an `a=candidate:` line for the candidate (without the `a=candidate:` itself). */
export function writeCandidate(c: IceCandidate): string {
  const base = `${c.foundation} ${c.component} udp ${c.priority} ${c.address} ${c.port} typ ${c.type}`;
  const related =
    c.relatedAddress !== undefined && c.relatedPort !== undefined
      ? ` raddr ${c.relatedAddress} rport ${c.relatedPort}`
      : '';
  return base + related;
}
