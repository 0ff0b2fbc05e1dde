import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Strips the IPv4-mapped prefix dual-stack sockets report, so addresses compare as written. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

export function addressFamily(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

/**
 * An address other hosts can reach us on when bound to every interface: the first external
 * address of the wanted family, else loopback. A configured advertised host always wins over this.
 */
export function guessReachableAddress(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (!ni.internal && (ni.family === 'IPv4' ? 4 : 6) === family) return ni.address;
    }
  }
  return family === 6 ? '::1' : '127.0.0.1';
}
