import { BlockList, isIPv6 } from 'node:net';
import type { TrunkConfig } from '../../config/sipSchema.js';

/**
 * Finds the trunk an INVITE came from by its source address (first match in config order). Given
 * a function, it reads the trunks live (the routing API's changes) and rebuilds its lists when
 * the array it returns is another one.
 */
export class TrunkMatcher {
  private built: readonly TrunkConfig[] | undefined;
  private cached: { trunk: TrunkConfig; allowed: BlockList }[] = [];
  private readonly source: () => readonly TrunkConfig[];

  constructor(trunks: readonly TrunkConfig[] | (() => readonly TrunkConfig[])) {
    this.source = typeof trunks === 'function' ? trunks : () => trunks;
  }

  private get lists(): { trunk: TrunkConfig; allowed: BlockList }[] {
    const trunks = this.source();
    if (trunks === this.built) return this.cached;
    this.built = trunks;
    this.cached = trunks.map((trunk) => {
      const allowed = new BlockList();
      for (const entry of trunk.sourceAddresses) {
        const [address = '', prefix] = entry.split('/');
        const family = isIPv6(address) ? 'ipv6' : 'ipv4';
        if (prefix === undefined) allowed.addAddress(address, family);
        else allowed.addSubnet(address, Number(prefix), family);
      }
      return { trunk, allowed };
    });
    return this.cached;
  }

  match(sourceAddress: string): TrunkConfig | undefined {
    const family = isIPv6(sourceAddress) ? 'ipv6' : 'ipv4';
    return this.lists.find(({ allowed }) => allowed.check(sourceAddress, family))?.trunk;
  }

  /**
   * The named trunk, if the address is one of its own. Meta's edge is one set of addresses for
   * every business number, so several whatsapp trunks may list the same ones: a WhatsApp INVITE
   * is the trunk of the number it calls, not the first that lists its source.
   */
  matchNamed(name: string, sourceAddress: string): TrunkConfig | undefined {
    const family = isIPv6(sourceAddress) ? 'ipv6' : 'ipv4';
    return this.lists.find(
      ({ trunk, allowed }) => trunk.name === name && allowed.check(sourceAddress, family),
    )?.trunk;
  }
}
