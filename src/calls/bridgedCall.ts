import type { Logger } from 'pino';
import type { MediaSession } from '../media/workers/MediaSession.js';
import type { SessionCloseReason } from '../media/workers/mediaChannelTypes.js';
import type { RecordingFormat } from '../recording/recordingTypes.js';
import type { FarEndBye } from '../signalling/sipDialogLeg.js';
import { WHATSAPP_DURATION_HEADER } from '../signalling/whatsappHeaders.js';
import { recordWholeCall } from './autoRecording.js';
import type { PhaseControl } from './callPhases.js';
import type { CallService } from './callService.js';
import type { EndReason } from './callTypes.js';
import { BridgedLeg } from './legs/bridgedLeg.js';
import type { AnsweredLeg } from './legs/callLeg.js';
import type { LiveCall } from './liveCall.js';
import { maxDurationTimer } from './maxDuration.js';

export interface BridgedCallDeps {
  calls: CallService;
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
const MEDIA_END: Record<SessionCloseReason, EndReason> = {
  normal: 'media_error',
  media_timeout: 'media_timeout',
  room_closed: 'room_closed',
  media_error: 'media_error',
  shutdown: 'gateway_shutdown',
};

/**
 * An answered call: its leg and media session bridged into the call's room (BridgedLeg). It
 * ends once, whichever side ends it (BYE from the far end, a hangup command, max duration, the
 * media session closing for media timeout, room deletion or a worker crash): the other side is
 * torn down, the call recorded as completed with the reason.
 */
export class BridgedCall implements PhaseControl {
  private ended = false;
  /** A transfer of this leg succeeded (REFER): the far end's BYE ends the call as transferred. */
  private transferredAway = false;
  private readonly bridgedAt = Date.now();
  private readonly farEndHangup: EndReason;
  private readonly log: Logger;

  constructor(
    private readonly live: LiveCall,
    readonly leg: AnsweredLeg,
    readonly session: MediaSession,
    private readonly deps: BridgedCallDeps,
    private readonly options: BridgedCallOptions = {},
  ) {
    this.farEndHangup = options.farEndHangup ?? 'caller_hangup';
    this.log = deps.logger.child({ callId: live.id });
  }

  start(): void {
    const { live, session } = this;
    live.answered(this, session);
    live.own(() => {
      if (!session.closed) void session.close('normal');
    });
    if (this.options.maxDurationMs !== undefined) {
      const timer = maxDurationTimer(this.options.maxDurationMs, () => void this.end('max_duration'));
      live.own(() => clearTimeout(timer));
    }
    if (this.options.recordFormat && !session.closed) {
      recordWholeCall(session, this.deps.calls, live.id, this.options.recordFormat, this.deps.logger);
    }
    new BridgedLeg(
      this.leg,
      session,
      this.log,
      (end) => {
        if (end.by === 'far_end') this.keepWhatsAppDuration(end.bye);
        // A session timer that ran out (RFC 4028) ends the leg like a BYE, but we sent that one.
        const byFarEnd =
          end.by === 'far_end' && end.bye?.sessionExpired
            ? 'session_expired'
            : this.transferredAway
              ? 'transferred'
              : this.farEndHangup;
        void this.end(end.by === 'far_end' ? byFarEnd : MEDIA_END[end.reason]);
      },
      (digit) => this.deps.calls.dtmf(live.id, digit, 'sip_info'),
    );
  }

  /** Meta's BYE says how long WhatsApp counted the call: kept as metadata.whatsapp.callDurationSeconds. */
  private keepWhatsAppDuration(bye: FarEndBye | undefined): void {
    const seconds = bye?.header(WHATSAPP_DURATION_HEADER)?.trim();
    if (seconds && /^\d{1,9}$/.test(seconds)) {
      this.deps.calls.addWhatsAppInfo(this.live.id, { callDurationSeconds: Number(seconds) });
    }
  }

  /** Ends the call from this side (BYE), by default as a hangup command. */
  hangup(reason: EndReason = 'api_hangup'): void {
    void this.end(reason);
  }

  shutdown(): Promise<void> {
    return this.end('gateway_shutdown');
  }

  /** A REFER on this leg succeeded: from now on the far end's BYE ends the call as `transferred`. */
  transferSucceeded(): void {
    this.transferredAway = true;
  }

  /**
   * The call goes on on another leg (a transfer the far end asked for, calls/transfer/): the new
   * leg and its session are bridged with this call's options (what is left of its max duration;
   * no second whole-call recording), then this leg gets its BYE and its media closes. The call is
   * not ended. Resolves once the BYE went out or failed.
   */
  handOver(leg: AnsweredLeg, session: MediaSession): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    const { maxDurationMs } = this.options;
    const left =
      maxDurationMs === undefined
        ? {}
        : { maxDurationMs: Math.max(1, maxDurationMs - (Date.now() - this.bridgedAt)) };
    new BridgedCall(this.live, leg, session, this.deps, {
      ...this.options,
      ...left,
      recordFormat: null,
    }).start();
    const bye = this.leg.hangup().catch((error: unknown) => this.log.warn({ err: error }, 'BYE failed'));
    if (!this.session.closed) void this.session.close('normal');
    return bye;
  }

  /** Ends the call once; resolves when the BYE (if this side sends one) has gone out or failed. */
  private end(reason: EndReason): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    const bye =
      reason === this.farEndHangup
        ? Promise.resolve()
        : this.leg.hangup().catch((error: unknown) => this.log.warn({ err: error }, 'BYE failed'));
    // Closing the call closes its media session (owned in `start`).
    const result = this.live.end({ to: 'completed', endReason: reason });
    this.log.info({ endReason: reason, recorded: result.ok }, 'call ended');
    return bye;
  }
}
