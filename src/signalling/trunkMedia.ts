import type { TrunkConfig } from '../config/sipSchema.js';
import { type EncryptionPolicy, NO_ENCRYPTION } from '../media/srtp/srtpTypes.js';
import { GRAPH_TRUNK } from './graph/graphTrunk.js';
import type { WhatsAppNumbers } from './whatsappNumbers.js';

/** A trunk's `media` section as the policy the media session applies to its offers and answers. */
export function encryptionPolicyOf(trunk: Pick<TrunkConfig, 'media'>): EncryptionPolicy {
  const { encryption, policy } = trunk.media;
  if (encryption === 'none') return NO_ENCRYPTION;
  return { method: encryption, required: policy === 'required' };
}

/**
 * Each trunk's media encryption policy by trunk name (a call's `metadata.trunk`); a WhatsApp
 * call's is its business number's (Meta keys each number as its settings say).
 */
export class TrunkMediaPolicies {
  private readonly byName = new Map<string, EncryptionPolicy>();
  private built: readonly Pick<TrunkConfig, 'name' | 'media'>[] | undefined;
  private readonly source: () => readonly Pick<TrunkConfig, 'name' | 'media'>[];

  /**
   * Given a function, the trunks are read live (the routing API's changes). A deleted trunk's
   * policy is kept: a call it delivered may still be ringing, and is answered as it was offered.
   */
  constructor(
    trunks:
      | readonly Pick<TrunkConfig, 'name' | 'media'>[]
      | (() => readonly Pick<TrunkConfig, 'name' | 'media'>[]),
    private readonly whatsapp?: WhatsAppNumbers,
  ) {
    this.source = typeof trunks === 'function' ? trunks : () => trunks;
    this.refresh();
  }

  private refresh(): void {
    const trunks = this.source();
    if (trunks === this.built) return;
    this.built = trunks;
    for (const trunk of trunks) this.byName.set(trunk.name, encryptionPolicyOf(trunk));
    // WebRTC media: DTLS-SRTP or nothing.
    this.byName.set(GRAPH_TRUNK, { method: 'dtls', required: true });
  }

  /** An unknown trunk (or a call from none) gets plain RTP, as before trunks had a policy. */
  encryptionOf(trunk: string | undefined, whatsappNumber?: string): EncryptionPolicy {
    this.refresh();
    const number = whatsappNumber === undefined ? undefined : this.whatsapp?.encryptionOf(whatsappNumber);
    return number ?? (trunk === undefined ? undefined : this.byName.get(trunk)) ?? NO_ENCRYPTION;
  }
}
