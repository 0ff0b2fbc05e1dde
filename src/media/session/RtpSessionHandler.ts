import { RtpPortAllocator } from '../ports/RtpPortAllocator.js';
import { SdpSession } from '../sdp/SdpSession.js';
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
  SessionCloseReason,
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingParams,
  StopRecordingResult,
} from '../workers/mediaChannelTypes.js';
import { MediaCommandError } from '../workers/mediaCommandError.js';
import type { SessionHandler, WorkerContext } from '../workers/sessionHandlerTypes.js';
import { FrameClock } from './frameClock.js';
import { PcmFiles } from './pcmFiles.js';
import { RtpMediaSession } from './RtpMediaSession.js';
import type { RtpSessionHandlerOptions } from './rtpSessionHandlerTypes.js';

const DEFAULT_RTCP_INTERVAL_MS = 5_000;
const DISPOSE_TIMEOUT_MS = 2_000;

/**
 * The media bridge of one worker process: RTP legs to SIP peers joined to LiveKit rooms, one
 * RtpMediaSession per call, all driven by one shared 20 ms clock.
 */
export class RtpSessionHandler implements SessionHandler {
  private readonly sessions = new Map<string, RtpMediaSession>();
  private readonly allocator: RtpPortAllocator;
  private readonly clock: FrameClock;
  private readonly pcmFiles = new PcmFiles();

  constructor(
    private readonly context: WorkerContext,
    private readonly options: RtpSessionHandlerOptions,
  ) {
    this.allocator = new RtpPortAllocator({
      range: context.init.portRange,
      bindAddress: context.init.bindAddress,
    });
    this.clock = new FrameClock({
      onError: (error) => options.logger.error({ err: error }, 'media clock listener threw'),
    });
  }

  status(): { sessions: number; portsInUse: number } {
    return { sessions: this.sessions.size, portsInUse: this.allocator.inUse };
  }

  async createSession(params: CreateSessionParams): Promise<CreateSessionResult> {
    this.assertNew(params.sessionId);
    const lease = await this.allocator.allocate();
    try {
      const { init } = this.context;
      const sdp = new SdpSession({
        codecs: init.codecs,
        address: init.advertisedAddress,
        rtpPort: lease.rtpPort,
      });
      const answer = params.remoteOffer === null ? null : sdp.answerOffer(params.remoteOffer);
      const offer = answer ? null : sdp.createOffer();
      // A second createSession with the same id may have raced us through the await above.
      this.assertNew(params.sessionId);
      const session = new RtpMediaSession({
        id: params.sessionId,
        callId: params.callId,
        lease,
        sdp,
        clock: this.clock,
        events: this.context.events,
        bridges: this.options.bridges,
        timeouts: { initialMs: init.timeoutInitialSeconds * 1000, establishedMs: init.timeoutSeconds * 1000 },
        rtcpIntervalMs: this.options.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS,
        logger: this.options.logger,
        pcmFiles: this.pcmFiles,
        ...(init.recording ? { recording: init.recording } : {}),
        onEnded: (ended, reason, message) => this.onEnded(ended.id, reason, message),
      });
      this.sessions.set(session.id, session);
      session.start(answer?.media ?? null);
      return {
        localSdp: answer?.sdp ?? offer?.sdp ?? '',
        type: answer ? 'answer' : 'offer',
        rtpPort: lease.rtpPort,
        media: answer?.media ?? null,
      };
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  async answerOffer(params: AnswerOfferParams): Promise<AnswerOfferResult> {
    return this.session(params.sessionId).answerOffer(params.sdp);
  }

  async applyRemoteAnswer(params: ApplyRemoteAnswerParams): Promise<ApplyRemoteAnswerResult> {
    return this.session(params.sessionId).applyRemoteAnswer(params.sdp, params.provisional === true);
  }

  connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult> {
    return this.session(params.sessionId).connectRoom(params);
  }

  async play(params: PlayParams): Promise<PlayResult> {
    return this.session(params.sessionId).play(params);
  }

  async sendDtmf(params: SendDtmfParams): Promise<Record<string, never>> {
    this.session(params.sessionId).sendDtmf(params.digits, params.durationMs);
    return {};
  }

  async injectDtmf(params: InjectDtmfParams): Promise<Record<string, never>> {
    this.session(params.sessionId).injectDtmf(params.digit, params.durationMs);
    return {};
  }

  async hold(params: HoldParams): Promise<HoldResult> {
    return this.session(params.sessionId).hold(params.hold);
  }

  async startRecording(params: StartRecordingParams): Promise<StartRecordingResult> {
    return this.session(params.sessionId).startRecording(params);
  }

  async stopRecording(params: StopRecordingParams): Promise<StopRecordingResult> {
    return this.session(params.sessionId).stopRecording(params.recordingId);
  }

  async closeSession(params: CloseSessionParams): Promise<CloseSessionResult> {
    const session = this.sessions.get(params.sessionId);
    if (!session) return { closed: false, stats: null };
    this.sessions.delete(session.id);
    return { closed: true, stats: await session.close() };
  }

  async shutdown(): Promise<number> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map((session) => session.close()));
    this.clock.stop();
    await withTimeout(this.options.bridges.dispose(), DISPOSE_TIMEOUT_MS).catch((error: unknown) =>
      this.options.logger.warn({ err: error }, 'disposing the LiveKit client failed'),
    );
    return open.length;
  }

  private onEnded(sessionId: string, reason: SessionCloseReason, message: string): void {
    if (!this.sessions.delete(sessionId)) return;
    this.options.logger.info({ sessionId, reason, message }, 'media session ended');
    this.context.events.emit('sessionClosed', { sessionId, reason, message });
  }

  private assertNew(sessionId: string): void {
    if (this.sessions.has(sessionId)) {
      throw new MediaCommandError('session_exists', `session ${sessionId} exists`, 'createSession');
    }
  }

  private session(id: string): RtpMediaSession {
    const session = this.sessions.get(id);
    if (!session) throw new MediaCommandError('session_not_found', `no session ${id} in this worker`);
    return session;
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
