import type { Logger } from 'pino';
import type { PhaseControl } from '../callPhases.js';
import type { CallService } from '../callService.js';
import type { Call, EndReason, FinalStatus } from '../callTypes.js';
import type { LiveCall } from '../liveCall.js';
import { maxDurationTimer } from '../maxDuration.js';
import type { OutboundRooms } from './outboundCall.js';

/** Who is in a room, as livekit-server lists it. */
export interface RoomPresence extends OutboundRooms {
  participantIdentities(name: string): Promise<string[]>;
  roomExists(name: string): Promise<boolean>;
}

export interface WebrtcCallDeps {
  calls: CallService;
  rooms: RoomPresence;
  logger: Logger;
}

export interface WebrtcCallOptions {
  ringTimeoutMs: number;
  /** Once answered, the call ends (max_duration) after this long. */
  maxDurationMs: number;
  /** How often the room's participants are listed. */
  pollIntervalMs: number;
}

/**
 * An outbound call to a browser (toChannel webrtc): no SIP leg, the callee is a participant of
 * the call's room. It rings until a participant joins who is neither the gateway's own (`sip_…`)
 * nor the caller (`from`, when fromChannel is webrtc), with a token from
 * POST /v1/calls/{id}/tokens; then it is in progress until that participant leaves
 * (callee_hangup), the room is deleted (room_closed), a hangup command (api_hangup) or max duration.
 * Unanswered by the ring timeout it ends no_answer/ring_timeout.
 *
 * livekit-server tells only its webhook receivers who joined, and this gateway is not one, so
 * the room's participants are listed every pollIntervalMs. The call's room is deleted when it
 * ends, which disconnects whoever is still in it.
 */
export class WebrtcCall implements PhaseControl {
  private ended = false;
  private callee: string | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private maxDurationTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly roomName: string;
  private readonly log: Logger;

  constructor(
    private readonly call: Call,
    private readonly live: LiveCall,
    private readonly deps: WebrtcCallDeps,
    private readonly options: WebrtcCallOptions,
  ) {
    this.roomName = call.livekitRoomName ?? '';
    this.log = deps.logger.child({ callId: call.id });
  }

  start(): void {
    this.live.ringing(this);
    this.live.own(() => {
      clearTimeout(this.ringTimer);
      clearTimeout(this.maxDurationTimer);
      clearTimeout(this.pollTimer);
    });
    void this.ring();
  }

  hangup(): void {
    void this.end(this.callee ? 'completed' : 'canceled', 'api_hangup');
  }

  shutdown(): Promise<void> {
    return this.end(this.callee ? 'completed' : 'failed', 'gateway_shutdown');
  }

  private async ring(): Promise<void> {
    try {
      await this.deps.rooms.ensureRoom(this.roomName);
    } catch (error) {
      this.log.error({ err: error }, 'could not create the room of a webrtc call');
      void this.end('failed', 'media_error');
      return;
    }
    if (this.ended) {
      // Ended while the room was being made: its deletion may have overtaken the creation.
      void this.deleteRoom();
      return;
    }
    this.deps.calls.transition(this.call.id, { to: 'ringing' });
    this.ringTimer = setTimeout(() => void this.end('no_answer', 'ring_timeout'), this.options.ringTimeoutMs);
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.ended) return;
    this.pollTimer = setTimeout(() => void this.poll(), this.options.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    const { rooms } = this.deps;
    const present = await rooms.participantIdentities(this.roomName).catch((error: unknown) => {
      this.log.warn({ err: error }, 'could not list the participants of a webrtc call');
      return undefined;
    });
    if (this.ended) return;
    if (!this.callee) {
      const callee = present?.find((identity) => this.isCallee(identity));
      if (callee) this.answered(callee);
    } else if (!present?.includes(this.callee)) {
      // The callee left, or the room went with everyone in it (or livekit-server did not answer).
      const exists = await rooms.roomExists(this.roomName).catch(() => true);
      if (this.ended) return;
      if (!exists || present !== undefined) {
        void this.end('completed', exists ? 'callee_hangup' : 'room_closed');
        return;
      }
    }
    this.schedulePoll();
  }

  private isCallee(identity: string): boolean {
    if (identity.startsWith('sip_')) return false;
    return !(this.call.fromChannel === 'webrtc' && identity === this.call.fromAddress);
  }

  private answered(identity: string): void {
    const result = this.deps.calls.transition(this.call.id, { to: 'in_progress' });
    if (!result.ok) return;
    this.callee = identity;
    this.live.answered(this);
    clearTimeout(this.ringTimer);
    this.log.info({ callee: identity }, 'webrtc callee joined');
    this.maxDurationTimer = maxDurationTimer(
      this.options.maxDurationMs,
      () => void this.end('completed', 'max_duration'),
    );
  }

  /** Ends the call once: the end is recorded (which stops its timers), the room is deleted. */
  private end(status: FinalStatus, endReason: EndReason): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.ended = true;
    const result = this.live.end({ to: status, endReason });
    this.log.info({ status, endReason, recorded: result.ok }, 'webrtc call ended');
    return this.deleteRoom();
  }

  private deleteRoom(): Promise<void> {
    return this.deps.rooms
      .deleteRoom(this.roomName)
      .catch((error: unknown) => this.log.warn({ err: error }, 'could not delete the room of a webrtc call'));
  }
}
