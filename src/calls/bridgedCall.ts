import type { Logger } from 'pino';
import type { MediaSession } from '../media/workers/MediaSession.js';
import type { SessionCloseReason } from '../media/workers/mediaChannelTypes.js';
import type { RecordingFormat } from '../recording/recordingTypes.js';
import type { SipDialog } from '../signalling/srfTypes.js';
import type { ActiveCall, ActiveCalls } from './activeCalls.js';
import { recordWholeCall } from './autoRecording.js';
import type { CallService } from './callService.js';
import type { EndReason } from './callTypes.js';
import { maxDurationTimer } from './maxDuration.js';
import { relaySipInfoDtmf } from './sipInfoRelay.js';

export interface BridgedCallDeps {
  calls: CallService;
  active: ActiveCalls;
  logger: Logger;
}

export interface BridgedCallOptions {
  /**
   * The end reason of a BYE from the far end, named from the gateway's side: caller_hangup for an
   * inbound call (the default), callee_hangup for an outbound one.
   */
  farEndHangup?: EndReason;
  /** Ends the call with max_duration (BYE) this long after it was bridged. */
  maxDurationMs?: number;
  /** Records the whole call in this format (the app's autoRecordEnabled); null or absent: no. */
  recordFormat?: RecordingFormat | null;
}

/** Why the media side ended a call, as the call records it. */
const MEDIA_END: Record<SessionCloseReason, EndReason | undefined> = {
  normal: undefined,
  media_timeout: 'media_timeout',
  room_closed: 'room_closed',
  media_error: 'media_error',
  shutdown: 'gateway_shutdown',
};

/**
 * An answered call: a SIP dialog and a media session bridged into the call's room. It ends once,
 * whichever side ends it (BYE from the caller, a hangup command, the media session closing for
 * media timeout, room deletion or a worker crash): the other side is torn down, the call recorded
 * as completed with the reason.
 */
export class BridgedCall implements ActiveCall {
  private ended = false;
  private readonly farEndHangup: EndReason;
  private maxDurationTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly callId: string,
    private readonly dialog: SipDialog,
    readonly session: MediaSession,
    private readonly deps: BridgedCallDeps,
    private readonly options: BridgedCallOptions = {},
  ) {
    this.farEndHangup = options.farEndHangup ?? 'caller_hangup';
  }

  start(): void {
    this.deps.active.add(this.callId, this);
    this.dialog.on('destroy', () => void this.end(this.farEndHangup));
    if (this.options.maxDurationMs !== undefined) {
      this.maxDurationTimer = maxDurationTimer(
        this.options.maxDurationMs,
        () => void this.end('max_duration'),
      );
    }
    relaySipInfoDtmf(this.dialog, this.session, this.deps.logger.child({ callId: this.callId }));
    if (this.options.recordFormat && !this.session.closed) {
      recordWholeCall(
        this.session,
        this.deps.calls,
        this.callId,
        this.options.recordFormat,
        this.deps.logger,
      );
    }
    this.dialog.on('modify', (req, res) => {
      // A re-INVITE (hold, resume, codec change): the media session answers it.
      this.session.answerOffer(req.body).then(
        ({ localSdp }) => res.send(200, undefined, { body: localSdp }),
        (error: unknown) => {
          this.deps.logger.warn({ callId: this.callId, err: error }, 're-INVITE not acceptable');
          res.send(488);
        },
      );
    });
    this.session.on('closed', (info) => {
      const reason = MEDIA_END[info.reason];
      if (reason) void this.end(reason);
    });
    if (this.session.closed)
      void this.end(MEDIA_END[this.session.closeInfo?.reason ?? 'media_error'] ?? 'media_error');
    // A BYE that came before this bridge listened (an outbound callee hanging up while the leg
    // was still joining its room) has already ended the dialog.
    if (this.dialog.connected === false) void this.end(this.farEndHangup);
  }

  /** Ends the call from this side (BYE), by default as a hangup command. */
  hangup(reason: EndReason = 'api_hangup'): void {
    void this.end(reason);
  }

  shutdown(): Promise<void> {
    return this.end('gateway_shutdown');
  }

  /** Ends the call once; resolves when the BYE (if this side sends one) has gone out or failed. */
  private end(reason: EndReason): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    clearTimeout(this.maxDurationTimer);
    this.deps.active.remove(this.callId);
    const bye =
      reason === this.farEndHangup
        ? Promise.resolve()
        : Promise.resolve(this.dialog.destroy()).then(
            () => undefined,
            (error: unknown) => this.deps.logger.warn({ callId: this.callId, err: error }, 'BYE failed'),
          );
    if (!this.session.closed) void this.session.close('normal');
    const result = this.deps.calls.transition(this.callId, { to: 'completed', endReason: reason });
    this.deps.logger.info({ callId: this.callId, endReason: reason, recorded: result.ok }, 'call ended');
    return bye;
  }
}
