import type { TrunkConfig } from '../config/sipSchema.js';
import { type EncryptionPolicy, NO_ENCRYPTION } from '../media/srtp/srtpTypes.js';

/** A trunk's `media` section as the policy the media session applies to its offers and answers. */
export function encryptionPolicyOf(trunk: Pick<TrunkConfig, 'media'>): EncryptionPolicy {
  const { encryption, policy } = trunk.media;
  if (encryption === 'none') return NO_ENCRYPTION;
  return { method: encryption, required: policy === 'required' };
}

/** Each trunk's media encryption policy by trunk name (a call's `metadata.trunk`). */
export class TrunkMediaPolicies {
  private readonly byName = new Map<string, EncryptionPolicy>();

  constructor(trunks: readonly Pick<TrunkConfig, 'name' | 'media'>[]) {
    for (const trunk of trunks) this.byName.set(trunk.name, encryptionPolicyOf(trunk));
  }

  /** An unknown trunk (or a call from none) gets plain RTP, as before trunks had a policy. */
  encryptionOf(trunk: string | undefined): EncryptionPolicy {
    return (trunk === undefined ? undefined : this.byName.get(trunk)) ?? NO_ENCRYPTION;
  }
}
