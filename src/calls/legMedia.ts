import type { NegotiatedAudio } from '../media/sdp/sdpTypes.js';
import type { EncryptionPolicy, MediaKeying } from '../media/srtp/srtpTypes.js';
import type { CreateSessionRequest } from '../media/workers/workerPoolTypes.js';
import type { CallService } from './callService.js';
import type { Call } from './callTypes.js';

/** Each trunk's media encryption policy (signalling's TrunkMediaPolicies). */
export interface TrunkEncryption {
  /** A WhatsApp call's policy is its business number's. */
  encryptionOf(trunk: string | undefined, whatsappNumber?: string): EncryptionPolicy;
}

/** The media session an inbound SIP leg needs: the caller's offer under its trunk's policy. */
export function inboundSessionRequest(
  call: Call,
  offer: string | null,
  trunks: TrunkEncryption | undefined,
): CreateSessionRequest {
  const trunk = typeof call.metadata.trunk === 'string' ? call.metadata.trunk : undefined;
  return {
    remoteOffer: offer,
    callId: call.id,
    ...(trunks
      ? {
          encryption: trunks.encryptionOf(
            trunk,
            call.fromChannel === 'whatsapp' ? call.toAddress : undefined,
          ),
        }
      : {}),
  };
}

/**
 * The keying the agreed stream uses; plain RTP when nothing was agreed yet. The result crossed
 * the worker channel as JSON, and a handler that predates SRTP (a stand-in) sends no
 * `encryption`: that is plain RTP too.
 */
export function keyingOf(media: Partial<Pick<NegotiatedAudio, 'encryption'>> | null): MediaKeying {
  return media?.encryption?.keying ?? 'none';
}

/** Writes the leg's keying on the call, so GET /v1/calls/{id} says how its media was protected. */
export function recordLegMedia(
  calls: Pick<CallService, 'attachMedia'>,
  callId: string,
  keying: MediaKeying,
): void {
  calls.attachMedia(callId, { encryption: keying });
}
