import type { Logger } from 'pino';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { SessionCloseReason } from '../../media/workers/mediaChannelTypes.js';
import type { FarEndBye } from '../../signalling/sipDialogLeg.js';
import type { AnsweredLeg } from './callLeg.js';

/** How a bridged leg ended by itself: its far end hung up, or its media session closed. */
export type LegEnd = { by: 'far_end'; bye?: FarEndBye } | { by: 'media'; reason: SessionCloseReason };

/**
 * The one bridge path of an answered leg (a call's own, or a bridge verb's callee) and its media
 * session: new offers from the far end (hold, resume, codec change) are answered by the session,
 * digits it sends by SIP INFO go to the session (reported, and sent to the room as SIP DTMF), and
 * `onEnd` hears once how the leg ended by itself: a BYE, or the session closing for its own
 * reasons (media timeout, room deleted, worker crash). A session we closed ('normal') is not one.
 */
export class BridgedLeg {
  private over = false;

  constructor(
    private readonly leg: AnsweredLeg,
    readonly session: MediaSession,
    private readonly logger: Logger,
    onEnd: (end: LegEnd) => void,
    /**
     * A digit the far end sent by SIP INFO, heard here at once: reported from the signalling
     * order, a digit sent just before a BYE is the call's before its end (the media session's
     * own report would come back from the worker after the BYE has been handled).
     */
    onSipDigit?: (digit: string) => void,
  ) {
    const ended = (end: LegEnd): void => {
      if (this.over) return;
      this.over = true;
      onEnd(end);
    };
    leg.onOffer(async (offer) => (await session.answerOffer(offer)).localSdp);
    leg.onDtmf((digit, durationMs) => {
      onSipDigit?.(digit);
      session
        .injectDtmf(digit, durationMs)
        .catch((error: unknown) => logger.warn({ err: error, digit }, 'INFO digit not relayed'));
    });
    session.on('closed', (info) => {
      if (info.reason !== 'normal') ended({ by: 'media', reason: info.reason });
    });
    if (session.closed) ended({ by: 'media', reason: session.closeInfo?.reason ?? 'media_error' });
    // A BYE that came before the bridge (a callee hanging up while its leg joined the room) is
    // reported at once by the leg.
    leg.onEnded((bye) => ended({ by: 'far_end', ...(bye ? { bye } : {}) }));
  }

  /**
   * Ends the leg from this side: BYE unless its far end already hung up, and the media session
   * closed. Resolves once the BYE went out or failed (logged); never rejects.
   */
  hangUp(): Promise<void> {
    this.over = true;
    const bye = this.leg.hangup().catch((error: unknown) => this.logger.warn({ err: error }, 'BYE failed'));
    if (!this.session.closed) void this.session.close('normal');
    return bye;
  }
}
