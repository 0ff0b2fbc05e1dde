import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80 } from 'werift-rtp';
import type { SrtpSuiteName } from './srtpTypes.js';

export interface SrtpSuite {
  name: SrtpSuiteName;
  /** The werift-rtp protection profile that implements it. */
  profile: typeof ProtectionProfileAes128CmHmacSha1_80 | typeof ProtectionProfileAeadAes128Gcm;
  keyBytes: number;
  saltBytes: number;
}

/**
 * The suites we offer, best first. AES_CM_128_HMAC_SHA1_80 leads because every SDES peer has it
 * (WhatsApp's SDES mode uses it). AES_CM_128_HMAC_SHA1_32 is not here: werift-rtp's transform
 * has only the 80-bit tag, and writing the 32-bit variant ourselves is the home-made crypto we do
 * not do; a peer offering only _32 is refused with 488.
 */
export const SRTP_SUITES: readonly SrtpSuite[] = [
  {
    name: 'AES_CM_128_HMAC_SHA1_80',
    profile: ProtectionProfileAes128CmHmacSha1_80,
    keyBytes: 16,
    saltBytes: 14,
  },
  // RFC 7714 §12: 128-bit key and 96-bit salt in the inline parameter.
  { name: 'AEAD_AES_128_GCM', profile: ProtectionProfileAeadAes128Gcm, keyBytes: 16, saltBytes: 12 },
];

export function suiteNamed(name: string): SrtpSuite | undefined {
  return SRTP_SUITES.find((suite) => suite.name === name);
}
