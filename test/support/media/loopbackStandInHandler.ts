import { FrameClock } from '../../../src/media/session/frameClock.js';
import { SessionRegistry } from '../../../src/media/session/SessionRegistry.js';
import type {
  AnswerOfferParams,
  AnswerOfferResult,
  ApplyRemoteAnswerParams,
  ApplyRemoteAnswerResult,
  CloseSessionParams,
  CloseSessionResult,
  ConnectRoomParams,
  ConnectRoomResult,
  CreateSessionParams,
  CreateSessionResult,
  HoldParams,
  HoldResult,
  InjectDtmfParams,
  PlayParams,
  PlayResult,
  SendDtmfParams,
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingResult,
} from '../../../src/media/workers/mediaChannelTypes.js';
import { MediaCommandError } from '../../../src/media/workers/mediaCommandError.js';
import type { SessionHandler, WorkerContext } from '../../../src/media/workers/sessionHandlerTypes.js';
import { LoopbackStandInSession } from './loopbackStandInSession.js';

/**
 * STAND-IN for RtpSessionHandler, run by media workers in tests (entry loopbackStandInEntry.ts).
 * Its bookkeeping is production's own SessionRegistry: the same port leases, first SDP
 * exchange, id checks and once-only sessionClosed, so it cannot drift from the real handler.
 * Only each session's media is faked (LoopbackStandInSession): RTP echoed, no room, no recording.
 */
export class LoopbackStandInHandler implements SessionHandler {
  private readonly sessions: SessionRegistry<LoopbackStandInSession>;
  private readonly clock = new FrameClock();

  constructor(private readonly context: WorkerContext) {
    this.sessions = new SessionRegistry(context);
  }

  status(): { sessions: number; portsInUse: number } {
    return this.sessions.status();
  }

  createSession(params: CreateSessionParams): Promise<CreateSessionResult> {
    return this.sessions.create(
      params,
      (parts) =>
        new LoopbackStandInSession(parts, {
          clock: this.clock,
          events: this.context.events,
          onEnded: (reason, message) => this.sessions.ended(parts.id, reason, message),
        }),
    );
  }

  async answerOffer(params: AnswerOfferParams): Promise<AnswerOfferResult> {
    return this.sessions.get(params.sessionId).answerOffer(params.sdp);
  }

  async applyRemoteAnswer(params: ApplyRemoteAnswerParams): Promise<ApplyRemoteAnswerResult> {
    return this.sessions.get(params.sessionId).applyRemoteAnswer(params.sdp, params.provisional === true);
  }

  async connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult> {
    this.sessions.get(params.sessionId).room = params;
    return { participantSid: null };
  }

  async play(params: PlayParams): Promise<PlayResult> {
    return this.sessions.get(params.sessionId).play(params);
  }

  async sendDtmf(params: SendDtmfParams): Promise<Record<string, never>> {
    this.sessions.get(params.sessionId).sendDtmf(params.digits, params.durationMs);
    return {};
  }

  async injectDtmf(params: InjectDtmfParams): Promise<Record<string, never>> {
    this.sessions.get(params.sessionId).injectDtmf(params.digit, params.durationMs);
    return {};
  }

  async hold(params: HoldParams): Promise<HoldResult> {
    return this.sessions.get(params.sessionId).hold(params.hold);
  }

  /** No decoded audio here to record. */
  async startRecording(params: StartRecordingParams): Promise<StartRecordingResult> {
    this.sessions.get(params.sessionId);
    throw new MediaCommandError('bad_request', 'the loopback stand-in does not record', 'startRecording');
  }

  async stopRecording(): Promise<StopRecordingResult> {
    throw new MediaCommandError('bad_request', 'the loopback stand-in does not record', 'stopRecording');
  }

  closeSession(params: CloseSessionParams): Promise<CloseSessionResult> {
    return this.sessions.close(params);
  }

  async shutdown(): Promise<number> {
    const closed = await this.sessions.closeAll();
    this.clock.stop();
    return closed;
  }
}
