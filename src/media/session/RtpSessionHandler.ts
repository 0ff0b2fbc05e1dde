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
  StopRecordingParams,
  StopRecordingResult,
} from '../workers/mediaChannelTypes.js';
import type { SessionHandler, WorkerContext } from '../workers/sessionHandlerTypes.js';
import { FrameClock } from './frameClock.js';
import { PcmFiles } from './pcmFiles.js';
import { RtpMediaSession } from './RtpMediaSession.js';
import type { RtpSessionHandlerOptions } from './rtpSessionHandlerTypes.js';
import { SessionRegistry } from './SessionRegistry.js';

const DEFAULT_RTCP_INTERVAL_MS = 5_000;
const DISPOSE_TIMEOUT_MS = 2_000;

/**
 * The media bridge of one worker process: RTP legs to SIP peers joined to LiveKit rooms, one
 * RtpMediaSession per call, all driven by one shared 20 ms clock.
 */
export class RtpSessionHandler implements SessionHandler {
  private readonly sessions: SessionRegistry<RtpMediaSession>;
  private readonly clock: FrameClock;
  private readonly pcmFiles = new PcmFiles();

  constructor(
    private readonly context: WorkerContext,
    private readonly options: RtpSessionHandlerOptions,
  ) {
    this.sessions = new SessionRegistry(context, { logger: options.logger });
    this.clock = new FrameClock({
      onError: (error) => options.logger.error({ err: error }, 'media clock listener threw'),
    });
  }

  status(): { sessions: number; portsInUse: number } {
    return this.sessions.status();
  }

  createSession(params: CreateSessionParams): Promise<CreateSessionResult> {
    const { init } = this.context;
    return this.sessions.create(
      params,
      (parts) =>
        new RtpMediaSession({
          ...parts,
          clock: this.clock,
          events: this.context.events,
          bridges: this.options.bridges,
          rtcpIntervalMs: this.options.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS,
          logger: this.options.logger,
          pcmFiles: this.pcmFiles,
          ...(init.recording ? { recording: init.recording } : {}),
          onEnded: (ended, reason, message) => this.sessions.ended(ended.id, reason, message),
        }),
    );
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

  async startRecording(params: StartRecordingParams): Promise<StartRecordingResult> {
    return this.sessions.get(params.sessionId).startRecording(params);
  }

  async stopRecording(params: StopRecordingParams): Promise<StopRecordingResult> {
    return this.sessions.get(params.sessionId).stopRecording(params.recordingId);
  }

  closeSession(params: CloseSessionParams): Promise<CloseSessionResult> {
    return this.sessions.close(params);
  }

  async shutdown(): Promise<number> {
    const closed = await this.sessions.closeAll();
    this.clock.stop();
    await withTimeout(this.options.bridges.dispose(), DISPOSE_TIMEOUT_MS).catch((error: unknown) =>
      this.options.logger.warn({ err: error }, 'disposing the LiveKit client failed'),
    );
    return closed;
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
