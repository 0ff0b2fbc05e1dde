import type { MediaSession } from '../media/workers/MediaSession.js';
import type { CallService } from './callService.js';

/**
 * Carries the caller's digits to the control plane: each one the media session reports from the
 * SIP side (RFC 4733 in its RTP, or SIP INFO) becomes a `calls.dtmf` event, in the order they
 * came. Digits from the room are the participants', not the caller's, and are not reported.
 */
export function reportDtmf(session: MediaSession, calls: CallService, callId: string): void {
  session.on('dtmf', ({ digit, source }) => {
    if (source !== 'room') calls.dtmf(callId, digit, source);
  });
}
