import type { EncryptionPolicy } from '../srtp/srtpTypes.js';
import { keyingOf } from './negotiateAudio.js';
import { parseSdp } from './parseSdp.js';
import { SdpError } from './sdpErrors.js';

/**
 * Why an offer cannot meet a trunk's encryption policy, or null when one of its active audio
 * streams can. Checked when the INVITE arrives, so a call that could never be answered is refused
 * (488) before it rings; codecs and the rest are left to the answer. SDP that cannot be read is
 * left to the answer too, which refuses it with its own reason.
 */
export function encryptionRefusal(offerSdp: string, policy: EncryptionPolicy): string | null {
  let refusal: string | null = null;
  try {
    const description = parseSdp(offerSdp);
    for (const section of description.media) {
      if (section.type !== 'audio' || section.port === 0) continue;
      const keying = keyingOf(description, section, policy);
      if (!('refused' in keying)) return null;
      refusal ??= keying.refused;
    }
  } catch (error) {
    if (error instanceof SdpError) return null;
    throw error;
  }
  return refusal;
}
