import type { MediaSession } from '../media/workers/MediaSession.js';
import type { CallService } from './callService.js';

/**
 * Carries a media session's room participants to the call: each join and leave becomes a
 * control-plane event and the first joiner is recorded as who answered. Subscribed as soon as
 * the session exists, so participants who join during early media count too.
 */
export function reportParticipants(session: MediaSession, calls: CallService, callId: string): void {
  session.on('participantJoined', ({ identity }) => calls.participant(callId, 'joined', identity));
  session.on('participantLeft', ({ identity }) => calls.participant(callId, 'left', identity));
}
