import type { Logger } from 'pino';
import type { CallRooms } from '../livekit/callRooms.js';
import { MediaCommandError } from '../media/workers/mediaCommandError.js';
import type { CreatedSession, CreateSessionRequest } from '../media/workers/workerPoolTypes.js';
import type { AnswerInvite, InboundRequest, InboundResponse } from '../signalling/srfTypes.js';
import type { ActiveCalls } from './activeCalls.js';
import { BridgedCall } from './bridgedCall.js';
import type { CallService } from './callService.js';
import type { Call } from './callTypes.js';

const ROOM_JOIN_TIMEOUT_MS = 20_000;

/** Where media sessions come from (the worker pool). */
export interface MediaSessions {
  createSession(request: CreateSessionRequest): Promise<CreatedSession>;
}

export interface InboundAnswerDeps {
  calls: CallService;
  media: MediaSessions;
  rooms: CallRooms;
  answer: AnswerInvite;
  active: ActiveCalls;
  logger: Logger;
}

/** The caller cancelled while the call was being answered. */
export class AnswerCanceled extends Error {
  override readonly name = 'AnswerCanceled';
}

/** Answering failed; `sipStatus` is the final response the caller should get. */
export class AnswerFailed extends Error {
  override readonly name = 'AnswerFailed';
  constructor(
    readonly sipStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Answers a ringing inbound call into its LiveKit room: room, media session from the caller's
 * offer, the session joins the room as `sip_<call id>`, then 200 OK with the session's answer.
 * After every await it checks whether the caller cancelled meanwhile; whatever was set up by
 * then is released on every failure path.
 */
export class InboundAnswer {
  constructor(private readonly deps: InboundAnswerDeps) {}

  async answer(
    call: Call,
    req: InboundRequest,
    res: InboundResponse,
    canceled: () => boolean,
  ): Promise<Call> {
    const roomName = this.deps.rooms.roomNameFor(call.id);
    const identity = `sip_${call.id}`;
    let created: CreatedSession | undefined;
    const stopIfCanceled = () => {
      if (canceled()) throw new AnswerCanceled(`call ${call.id} was canceled while answering`);
    };
    try {
      await this.deps.rooms.ensureRoom(roomName);
      this.deps.calls.attachRoom(call.id, roomName);
      stopIfCanceled();
      created = await this.deps.media.createSession({ remoteOffer: req.body || null, callId: call.id });
      stopIfCanceled();
      const attributes = {
        'sip.callId': call.id,
        'sip.from': call.fromAddress,
        'sip.to': call.toAddress,
        'sip.trunk': String(call.metadata.trunk ?? ''),
        'sip.direction': call.direction,
      };
      const token = await this.deps.rooms.tokens.participantToken({
        room: roomName,
        identity,
        kind: 'sip',
        attributes,
        ttlSeconds: 600,
      });
      await created.session.connectRoom(
        { url: this.deps.rooms.connection.url, token, roomName, identity, attributes },
        // Joining a room is a WebRTC handshake; many at once on a busy host take seconds, and the
        // caller keeps hearing ringback meanwhile, so wait well past the command default.
        ROOM_JOIN_TIMEOUT_MS,
      );
      stopIfCanceled();
      const dialog = await this.deps.answer(req, res, created.localSdp);
      const answered = this.deps.calls.transition(call.id, { to: 'in_progress' });
      if (!answered.ok) {
        void dialog.destroy();
        throw new AnswerFailed(500, answered.reason);
      }
      new BridgedCall(call.id, dialog, created.session, {
        calls: this.deps.calls,
        active: this.deps.active,
        logger: this.deps.logger,
      }).start();
      return answered.call;
    } catch (error) {
      if (created && !created.session.closed) void created.session.close('normal');
      if (error instanceof AnswerCanceled || error instanceof AnswerFailed) throw error;
      if (error instanceof MediaCommandError && error.code.startsWith('sdp_')) {
        throw new AnswerFailed(488, `the caller's offer is not acceptable: ${error.message}`);
      }
      this.deps.logger.error({ callId: call.id, err: error }, 'answering failed');
      throw new AnswerFailed(503, `answering failed: ${(error as Error).message}`);
    }
  }
}
