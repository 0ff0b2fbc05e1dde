import type { MediaSession } from '../media/workers/MediaSession.js';
import type { CallService } from './callService.js';

/**
 * Carries the caller's RFC 4733 digits (in its RTP) to the control plane: each one the media
 * session reports becomes a `calls.dtmf` event, in the order they came. SIP INFO digits are
 * reported by the call's bridge as the INFO arrives (BridgedLeg), so they keep their place before
 * a BYE; the session's echo of them is not reported again. Digits from the room are the
 * participants', not the caller's, and are not reported.
 */
export function reportDtmf(session: MediaSession, calls: CallService, callId: string): void {
  session.on('dtmf', ({ digit, source }) => {
    if (source === 'rfc4733') calls.dtmf(callId, digit, source);
  });
}
