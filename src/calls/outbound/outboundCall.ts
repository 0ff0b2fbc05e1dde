import type { Logger } from 'pino';
import type { RecordingFormat } from '../../recording/recordingTypes.js';
import { BridgedCall } from '../bridgedCall.js';
import { DialFailed, type DialOutcome } from '../callErrors.js';
import type { PhaseControl } from '../callPhases.js';
import type { CallService } from '../callService.js';
import type { Call, EndReason, FinalStatus } from '../callTypes.js';
import { recordLegMedia } from '../legMedia.js';
import type { LiveCall } from '../liveCall.js';
import { reportParticipants } from '../participantReporter.js';
import type { GraphDialRequest } from './graphDialer.js';
import type { DialedLeg } from './outboundDialer.js';

/** The rooms an outbound call makes and, when it ends unanswered, removes. */
export interface OutboundRooms {
  ensureRoom(name: string): Promise<void>;
  deleteRoom(name: string): Promise<void>;
}

/** Whoever places the leg: the SIP dialer, or the Graph one for WhatsApp in Graph mode. */
export interface LegDialer {
  dial(request: GraphDialRequest): Promise<DialedLeg>;
}

export interface OutboundCallDeps {
  calls: CallService;
  dialer: LegDialer;
  rooms: OutboundRooms;
  logger: Logger;
}

export interface OutboundCallOptions {
  ringTimeoutMs: number;
  /** Once answered, the call is hung up (max_duration) after this long. */
  maxDurationMs: number;
  /** Records the whole call once answered (the app's autoRecordEnabled). */
  recordFormat?: RecordingFormat | null;
}

interface Ending {
  status: FinalStatus;
  endReason: EndReason;
}

/** How a dial that did not connect ends the call (README, "Outbound calls"). */
const DIAL_ENDINGS: Record<Exclude<DialOutcome, 'canceled'>, Ending> = {
  busy: { status: 'busy', endReason: 'busy' },
  no_answer: { status: 'no_answer', endReason: 'no_answer' },
  ring_timeout: { status: 'no_answer', endReason: 'ring_timeout' },
  declined: { status: 'failed', endReason: 'declined' },
  trunk_error: { status: 'failed', endReason: 'trunk_error' },
  media_error: { status: 'failed', endReason: 'media_error' },
  provider_error: { status: 'failed', endReason: 'provider_error' },
};

/**
 * An outbound PSTN call from POST /v1/calls until it is answered or ends unanswered: the call's
 * room, then its SIP leg through the app's trunk (OutboundDialer), `ringing` on 18x, and on answer
 * `in_progress` and a BridgedCall (the callee's BYE is callee_hangup) that takes over hangups.
 *
 * Before answer it runs the call's ringing phase: a hangup command cancels it (canceled, api_hangup),
 * a gateway stop fails it (gateway_shutdown). Either is recorded at once; the dial is then given
 * up (CANCEL, or BYE for a 200 that crosses it). Every unanswered end records one final status
 * and deletes the room; the media session is the dialer's to release, and the concurrency slot
 * is the call's live status, so it is free the moment the end is recorded.
 */
export class OutboundCall implements PhaseControl {
  private readonly abort = new AbortController();
  /** Set once the call's end before answer is recorded (by this object), or it was handed over. */
  private settled = false;
  private running: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    private readonly call: Call,
    private readonly live: LiveCall,
    private readonly deps: OutboundCallDeps,
    private readonly options: OutboundCallOptions,
  ) {
    this.log = deps.logger.child({ callId: call.id });
  }

  start(): void {
    this.live.ringing(this);
    this.running = this.run();
  }

  hangup(): void {
    this.giveUp({ status: 'canceled', endReason: 'api_hangup' });
  }

  /** Records the end and cancels; resolves once the dial has let go (CANCEL or BYE sent). */
  shutdown(): Promise<void> {
    this.giveUp({ status: 'failed', endReason: 'gateway_shutdown' });
    return this.running;
  }

  private giveUp(ending: Ending): void {
    if (this.settled) return;
    this.finish(ending);
    this.abort.abort();
  }

  private async run(): Promise<void> {
    const { call } = this;
    const roomName = call.livekitRoomName ?? '';
    try {
      await this.deps.rooms.ensureRoom(roomName);
    } catch (error) {
      this.log.error({ err: error }, 'could not create the room of an outbound call');
      this.finish({ status: 'failed', endReason: 'media_error' });
      return;
    }
    if (this.settled) {
      // Ended while the room was being made: its deletion may have overtaken the creation.
      void this.deleteRoom();
      return;
    }
    let leg: DialedLeg;
    try {
      leg = await this.deps.dialer.dial({
        appId: call.appId,
        channel: call.toChannel === 'whatsapp' ? 'whatsapp' : 'pstn',
        from: call.fromAddress,
        to: call.toAddress,
        roomName,
        identity: `sip_${call.id}`,
        callId: call.id,
        ringTimeoutMs: this.options.ringTimeoutMs,
        signal: this.abort.signal,
        onRinging: () => {
          if (!this.settled) this.deps.calls.transition(call.id, { to: 'ringing' });
        },
        onInviteSent: (sipCallId) => this.deps.calls.attachSipCallId(call.id, sipCallId),
        onWhatsAppCall: (wacid) => this.deps.calls.addWhatsAppInfo(call.id, { wacid }),
        onSession: (session) => reportParticipants(session, this.deps.calls, call.id),
      });
    } catch (error) {
      // A given-up dial was recorded when it was given up; anything else ends the call here.
      if (error instanceof DialFailed) {
        if (error.outcome !== 'canceled') {
          this.finish(DIAL_ENDINGS[error.outcome], error.sipStatus, error.sipReason);
        }
      } else {
        this.log.error({ err: error }, 'outbound dial failed');
        this.finish({ status: 'failed', endReason: 'media_error' });
      }
      return;
    }
    const answered = this.settled ? undefined : this.deps.calls.transition(call.id, { to: 'in_progress' });
    if (!answered?.ok) {
      // Ended in the same instant by other means: nothing may stay up behind a final status.
      void leg.leg.hangup().catch(() => undefined);
      void leg.session.close('normal');
      this.finish({ status: 'failed', endReason: 'media_error' });
      return;
    }
    this.settled = true;
    recordLegMedia(this.deps.calls, call.id, leg.encryption);
    // Runs the call from here on.
    new BridgedCall(
      this.live,
      leg.leg,
      leg.session,
      { calls: this.deps.calls, logger: this.log },
      {
        farEndHangup: 'callee_hangup',
        maxDurationMs: this.options.maxDurationMs,
        recordFormat: this.options.recordFormat ?? null,
      },
    ).start();
  }

  /** Records the unanswered end once, which closes the call, and deletes its room. */
  private finish(ending: Ending, sipStatus: number | null = null, sipReason: string | null = null): void {
    if (this.settled) return;
    this.settled = true;
    const result = this.live.end({
      to: ending.status,
      endReason: ending.endReason,
      ...(sipStatus !== null ? { sipStatus } : {}),
      ...(sipReason !== null ? { sipReason } : {}),
    });
    this.log.info(
      { ...ending, sipStatus, sipReason, recorded: result.ok },
      'outbound call ended before answer',
    );
    void this.deleteRoom();
  }

  private deleteRoom(): Promise<void> {
    const roomName = this.call.livekitRoomName ?? '';
    return this.deps.rooms
      .deleteRoom(roomName)
      .catch((error: unknown) => this.log.warn({ err: error, roomName }, 'could not delete the room'));
  }
}
