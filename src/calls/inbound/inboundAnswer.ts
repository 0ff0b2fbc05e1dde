import type { Logger } from 'pino';
import type { CallRooms } from '../../livekit/callRooms.js';
import type { CreatedSession, CreateSessionRequest } from '../../media/workers/workerPoolTypes.js';
import type { WhatsAppCallInfo } from '../../signalling/whatsappHeaders.js';
import { autoRecordFormat, type CallSettingsSource } from '../autoRecording.js';
import { BridgedCall } from '../bridgedCall.js';
import { AnswerCanceled, AnswerFailed, answerError, NO_CAPACITY } from '../callErrors.js';
import type { AnswerOptions } from '../callPhases.js';
import type { CallService } from '../callService.js';
import type { Call } from '../callTypes.js';
import { reportDtmf } from '../dtmfReporter.js';
import { inboundSessionRequest, keyingOf, recordLegMedia, type TrunkEncryption } from '../legMedia.js';
import type { IncomingLeg } from '../legs/callLeg.js';
import type { LiveCall } from '../liveCall.js';
import { reportParticipants } from '../participantReporter.js';
import { joinRoom, SIP_CALL_STATUS, sipAttributes, updateCallStatus } from '../roomJoin.js';

/** Where media sessions come from (the worker pool). */
export interface MediaSessions {
  createSession(request: CreateSessionRequest): Promise<CreatedSession>;
  /** Whether a session could be created now (a worker is running and below its limit). */
  hasCapacity(): boolean;
}

export interface InboundAnswerDeps {
  calls: CallService;
  media: MediaSessions;
  rooms: CallRooms;
  logger: Logger;
  /** calls.maxDurationSeconds: an answered call ends with max_duration after this long. */
  maxDurationSeconds: number;
  /** The app's settings: whether (and how) it records its answered calls. */
  callingConfigs: CallSettingsSource;
  /** Each trunk's media encryption policy; plain RTP for every call when absent. */
  trunkMedia?: TrunkEncryption;
}

/**
 * A call whose media is ready (session created from the caller's offer, joined to the room) but
 * which has no 200 OK yet. It is prepared while the call rings; early media (pre_accept) sends
 * `localSdp` in a 183, and the accept goes on to `complete`, which only has to answer.
 */
export interface PreparedAnswer {
  readonly created: CreatedSession;
  readonly localSdp: string;
  /** The answer is going out (183 or 200): the session starts its media. Idempotent. */
  startMedia(): Promise<void>;
  /** Closes the media session when the call ends before it is answered. */
  release(): void;
}

/**
 * Answers a ringing inbound call into its LiveKit room in two steps. `prepare`, run as the call
 * starts ringing: room, media session from the caller's offer (held silent until the answer goes
 * out), the session joins the room as `sip_<call id>` with sip.callStatus ringing. `complete`, on
 * accept: the media starts and the 200 OK goes out, so an accept waits for no room join. After
 * every await it checks whether the caller cancelled meanwhile; whatever was set up by then is
 * released on every failure path.
 */
export class InboundAnswer {
  constructor(private readonly deps: InboundAnswerDeps) {}

  /** Sets up the media side of the answer: room, media session, room join. */
  async prepare(call: Call, offer: string | null, canceled: () => boolean): Promise<PreparedAnswer> {
    const roomName = this.deps.rooms.roomNameFor(call.id);
    let created: CreatedSession | undefined;
    const stopIfCanceled = () => {
      if (canceled()) throw new AnswerCanceled(`call ${call.id} was canceled while answering`);
    };
    try {
      // Full workers refuse before a room is made for a call that cannot have media.
      if (!this.deps.media.hasCapacity()) throw new AnswerFailed(503, NO_CAPACITY);
      await this.deps.rooms.ensureRoom(roomName);
      this.deps.calls.attachRoom(call.id, roomName);
      stopIfCanceled();
      created = await this.deps.media.createSession({
        ...inboundSessionRequest(call, offer, this.deps.trunkMedia),
        awaitingAnswer: true,
      });
      const keying = keyingOf(created.media);
      recordLegMedia(this.deps.calls, call.id, keying);
      reportParticipants(created.session, this.deps.calls, call.id);
      reportDtmf(created.session, this.deps.calls, call.id);
      stopIfCanceled();
      await joinRoom(this.deps.rooms, created.session, {
        roomName,
        identity: participantIdentity(call),
        attributes: {
          [SIP_CALL_STATUS]: 'ringing',
          ...sipAttributes({
            callId: call.id,
            from: call.fromAddress,
            to: call.toAddress,
            trunk: String(call.metadata.trunk ?? ''),
            direction: call.direction,
            mediaEncryption: keying,
            ...(isWhatsAppInfo(call.metadata.whatsapp) ? { whatsapp: call.metadata.whatsapp } : {}),
          }),
        },
      });
      stopIfCanceled();
      const session = created.session;
      let released = false;
      let started: Promise<void> | undefined;
      return {
        created,
        localSdp: created.localSdp,
        startMedia: () => {
          started ??= session.startMedia();
          return started;
        },
        release: () => {
          if (released || session.closed) return;
          released = true;
          void session.close('normal');
        },
      };
    } catch (error) {
      if (created && !created.session.closed) void created.session.close('normal');
      throw answerError(call.id, error, this.deps.logger);
    }
  }

  /** Answers with the prepared media and hands the call over to its bridge. */
  async complete(
    live: LiveCall,
    call: Call,
    prepared: PreparedAnswer,
    leg: IncomingLeg,
    canceled: () => boolean,
    options: AnswerOptions = {},
  ): Promise<Call> {
    try {
      if (canceled()) throw new AnswerCanceled(`call ${call.id} was canceled while answering`);
      if (prepared.created.session.closed)
        throw new AnswerFailed(503, `the media session of call ${call.id} ended before the answer`);
      // Started before the 200 OK goes out, so the first words after it reach the room.
      await prepared.startMedia();
      const answeredLeg = await leg.answer(prepared.localSdp);
      const answered = this.deps.calls.transition(call.id, { to: 'in_progress' });
      if (!answered.ok) {
        void answeredLeg.hangup().catch(() => undefined);
        throw new AnswerFailed(500, answered.reason);
      }
      void updateCallStatus(
        this.deps.rooms,
        { roomName: this.deps.rooms.roomNameFor(call.id), identity: participantIdentity(call) },
        'active',
        this.deps.logger,
      );
      new BridgedCall(
        live,
        answeredLeg,
        prepared.created.session,
        { calls: this.deps.calls, logger: this.deps.logger },
        {
          maxDurationMs: (options.maxDurationSeconds ?? this.deps.maxDurationSeconds) * 1000,
          recordFormat: autoRecordFormat(this.deps.callingConfigs, call.appId),
        },
      ).start();
      return answered.call;
    } catch (error) {
      prepared.release();
      throw answerError(call.id, error, this.deps.logger);
    }
  }
}

/** The SIP leg's participant in the call's room. */
function participantIdentity(call: Pick<Call, 'id'>): string {
  return `sip_${call.id}`;
}

/** metadata.whatsapp as InboundCalls wrote it: string values under known names. */
function isWhatsAppInfo(value: unknown): value is WhatsAppCallInfo {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((entry) => typeof entry === 'string')
  );
}
