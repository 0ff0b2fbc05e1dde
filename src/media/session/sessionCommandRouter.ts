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
  StartMediaParams,
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingParams,
  StopRecordingResult,
} from '../workers/mediaChannelTypes.js';
import type { SessionHandler } from '../workers/sessionHandlerTypes.js';
import type { SessionRegistry } from './SessionRegistry.js';
import type { RegisteredSession } from './sessionRegistryTypes.js';

/** What a worker's session does for the commands that name it. */
export interface CommandedSession extends RegisteredSession {
  answerOffer(sdp: string): AnswerOfferResult;
  applyRemoteAnswer(sdp: string, provisional: boolean): ApplyRemoteAnswerResult;
  connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult>;
  play(params: PlayParams): Promise<PlayResult>;
  sendDtmf(digits: string, durationMs: number | null): void;
  injectDtmf(digit: string, durationMs: number | null): void;
  hold(hold: boolean): HoldResult;
  /** Ends the wait of a session created awaitingAnswer; a no-op otherwise. */
  startMedia(): void;
  startRecording(params: StartRecordingParams): Promise<StartRecordingResult>;
  stopRecording(recordingId: string): Promise<StopRecordingResult>;
}

/**
 * The session commands of a SessionHandler, routed by session id through its SessionRegistry
 * (an unknown id is `session_not_found` there). The media bridge and the tests' loopback stand-in
 * both extend it, so they answer every command the same way and differ only in their sessions.
 */
export abstract class SessionCommandRouter<S extends CommandedSession> implements SessionHandler {
  constructor(protected readonly sessions: SessionRegistry<S>) {}

  abstract createSession(params: CreateSessionParams): Promise<CreateSessionResult>;
  abstract shutdown(): Promise<number>;

  status(): { sessions: number; portsInUse: number } {
    return this.sessions.status();
  }

  async answerOffer(params: AnswerOfferParams): Promise<AnswerOfferResult> {
    return this.sessions.get(params.sessionId).answerOffer(params.sdp);
  }

  async applyRemoteAnswer(params: ApplyRemoteAnswerParams): Promise<ApplyRemoteAnswerResult> {
    return this.sessions.get(params.sessionId).applyRemoteAnswer(params.sdp, params.provisional === true);
  }

  connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult> {
    return this.sessions.get(params.sessionId).connectRoom(params);
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

  async startMedia(params: StartMediaParams): Promise<Record<string, never>> {
    this.sessions.get(params.sessionId).startMedia();
    return {};
  }

  async startRecording(params: StartRecordingParams): Promise<StartRecordingResult> {
    return this.sessions.get(params.sessionId).startRecording(params);
  }

  async stopRecording(params: StopRecordingParams): Promise<StopRecordingResult> {
    return this.sessions.get(params.sessionId).stopRecording(params.recordingId);
  }

  closeSession(params: CloseSessionParams): Promise<CloseSessionResult> {
    return this.sessions.close(params);
  }
}
