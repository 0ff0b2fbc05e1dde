import { randomUUID } from 'node:crypto';
import type { RtpPortLease } from '../ports/portAllocatorTypes.js';
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
  SessionStats,
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingResult,
} from './mediaChannelTypes.js';
import { MediaCommandError } from './mediaCommandError.js';
import type { SessionHandler, WorkerContext } from './sessionHandlerTypes.js';

/**
 * Playing this URL never answers: lets tests see a request time out on a worker that is alive
 * but stuck, without a test-only command in the production protocol.
 */
export const LOOPBACK_HANG_URL = 'loopback:never-answer';

/** Playing this URL blocks the worker's event loop for good: a stuck worker, for health-check tests. */
export const LOOPBACK_BLOCK_URL = 'loopback:block-event-loop';

interface LoopbackSession {
  id: string;
  lease: RtpPortLease;
  sdp: SdpSession;
  stats: SessionStats;
  sawFirstPacket: boolean;
  /** When RTP last arrived (or the session started, or we stopped expecting RTP). */
  lastActivityAt: number;
  timeoutTimer: NodeJS.Timeout | null;
  room: ConnectRoomParams | null;
}

/**
 * STAND-IN session handler for tests of the worker layer; not the media bridge.
 *
 * It does the real parts the worker layer is responsible for (an RTP port lease bound in this
 * worker's slice, SDP offer/answer through SdpSession, the media timeout that ends a session
 * from inside the worker) and fakes the rest: RTP is echoed back to its source, the room is
 * not joined, DTMF sent comes straight back as received digits.
 */
export class LoopbackSessionHandler implements SessionHandler {
  private readonly sessions = new Map<string, LoopbackSession>();
  private readonly allocator: RtpPortAllocator;

  constructor(private readonly context: WorkerContext) {
    this.allocator = new RtpPortAllocator({
      range: context.init.portRange,
      bindAddress: context.init.bindAddress,
    });
  }

  status(): { sessions: number; portsInUse: number } {
    return { sessions: this.sessions.size, portsInUse: this.allocator.inUse };
  }

  async createSession(params: CreateSessionParams): Promise<CreateSessionResult> {
    if (this.sessions.has(params.sessionId)) {
      throw new MediaCommandError('session_exists', `session ${params.sessionId} exists`, 'createSession');
    }
    const lease = await this.allocator.allocate();
    try {
      const sdp = new SdpSession({
        codecs: this.context.init.codecs,
        address: this.context.init.advertisedAddress,
        rtpPort: lease.rtpPort,
      });
      const local = params.remoteOffer === null ? null : sdp.answerOffer(params.remoteOffer);
      const offer = local ? null : sdp.createOffer();
      // A second createSession with the same id may have raced us through the await above.
      if (this.sessions.has(params.sessionId)) {
        throw new MediaCommandError('session_exists', `session ${params.sessionId} exists`, 'createSession');
      }
      const session: LoopbackSession = {
        id: params.sessionId,
        lease,
        sdp,
        stats: emptyStats(),
        sawFirstPacket: false,
        lastActivityAt: Date.now(),
        timeoutTimer: null,
        room: null,
      };
      this.listen(session);
      this.watchTimeout(session);
      this.sessions.set(session.id, session);
      return {
        localSdp: local?.sdp ?? offer?.sdp ?? '',
        type: local ? 'answer' : 'offer',
        rtpPort: lease.rtpPort,
        media: local?.media ?? null,
      };
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  async answerOffer(params: AnswerOfferParams): Promise<AnswerOfferResult> {
    const { sdp, media } = this.session(params.sessionId).sdp.answerOffer(params.sdp);
    return { localSdp: sdp, media };
  }

  async applyRemoteAnswer(params: ApplyRemoteAnswerParams): Promise<ApplyRemoteAnswerResult> {
    return {
      media: this.session(params.sessionId).sdp.applyAnswer(params.sdp, {
        provisional: params.provisional === true,
      }),
    };
  }

  async connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult> {
    this.session(params.sessionId).room = params;
    return { participantSid: null };
  }

  play(params: PlayParams): Promise<PlayResult> {
    const session = this.session(params.sessionId);
    if (params.source.kind === 'url' && params.source.url === LOOPBACK_HANG_URL) return new Promise(() => {});
    if (params.source.kind === 'url' && params.source.url === LOOPBACK_BLOCK_URL) {
      // Answer first, so the test sees the worker get stuck after a normal exchange.
      setImmediate(() => {
        for (;;) {
          // Spin until killed.
        }
      });
    }
    const playbackId = randomUUID();
    setImmediate(() => {
      if (this.sessions.get(session.id) !== session) return;
      this.context.events.emit('playbackEnded', { sessionId: session.id, playbackId, reason: 'finished' });
    });
    return Promise.resolve({ playbackId });
  }

  async sendDtmf(params: SendDtmfParams): Promise<Record<string, never>> {
    const session = this.session(params.sessionId);
    if (!/^[0-9*#A-D]+$/i.test(params.digits)) {
      throw new MediaCommandError('bad_request', `not DTMF digits: ${params.digits}`, 'sendDtmf');
    }
    for (const digit of params.digits.toUpperCase()) {
      this.context.events.emit('dtmf', {
        sessionId: session.id,
        digit,
        durationMs: params.durationMs ?? 100,
        source: 'rfc4733',
      });
    }
    return {};
  }

  async injectDtmf(params: InjectDtmfParams): Promise<Record<string, never>> {
    const session = this.session(params.sessionId);
    this.context.events.emit('dtmf', {
      sessionId: session.id,
      digit: params.digit.toUpperCase(),
      durationMs: params.durationMs ?? 100,
      source: params.source,
    });
    return {};
  }

  async hold(params: HoldParams): Promise<HoldResult> {
    const offer = this.session(params.sessionId).sdp.createOffer({
      direction: params.hold ? 'sendonly' : 'sendrecv',
    });
    return { localSdp: offer.sdp };
  }

  /** No decoded audio here to record. */
  async startRecording(params: StartRecordingParams): Promise<StartRecordingResult> {
    this.session(params.sessionId);
    throw new MediaCommandError('bad_request', 'the loopback stand-in does not record', 'startRecording');
  }

  async stopRecording(): Promise<StopRecordingResult> {
    throw new MediaCommandError('bad_request', 'the loopback stand-in does not record', 'stopRecording');
  }

  async closeSession(params: CloseSessionParams): Promise<CloseSessionResult> {
    const session = this.sessions.get(params.sessionId);
    if (!session) return { closed: false, stats: null };
    this.end(session);
    return { closed: true, stats: { ...session.stats } };
  }

  async shutdown(): Promise<number> {
    const open = [...this.sessions.values()];
    for (const session of open) this.end(session);
    return open.length;
  }

  private session(id: string): LoopbackSession {
    const session = this.sessions.get(id);
    if (!session) throw new MediaCommandError('session_not_found', `no session ${id} in this worker`);
    return session;
  }

  /** Echo, symmetric-RTP style: whatever arrives goes back to where it came from. */
  private listen(session: LoopbackSession): void {
    const socket = session.lease.rtpSocket;
    socket.on('message', (packet, from) => {
      session.lastActivityAt = Date.now();
      session.stats.packetsReceived += 1;
      session.stats.bytesReceived += packet.length;
      if (!session.sawFirstPacket) {
        session.sawFirstPacket = true;
        this.context.events.emit('firstPacket', {
          sessionId: session.id,
          from: { address: from.address, port: from.port },
          at: Date.now(),
        });
      }
      socket.send(packet, from.port, from.address);
      session.stats.packetsSent += 1;
      session.stats.bytesSent += packet.length;
    });
    socket.on('error', (error) => {
      if (this.sessions.get(session.id) !== session) return;
      this.end(session);
      this.context.events.emit('sessionClosed', {
        sessionId: session.id,
        reason: 'media_error',
        message: `RTP socket failed: ${error.message}`,
      });
    });
  }

  /**
   * Media timeout without a timer reset per packet: the timer fires at the earliest moment the
   * limit could be reached and re-arms itself for the remainder if RTP arrived meanwhile.
   * While we expect no RTP (the peer holds us: sendonly or inactive on our side) the clock stands.
   */
  private watchTimeout(session: LoopbackSession): void {
    const { timeoutInitialSeconds, timeoutSeconds } = this.context.init;
    const limitMs = (session.sawFirstPacket ? timeoutSeconds : timeoutInitialSeconds) * 1000;
    const direction = session.sdp.media?.direction;
    const now = Date.now();
    if (direction === 'sendonly' || direction === 'inactive') session.lastActivityAt = now;
    const silentMs = now - session.lastActivityAt;
    if (silentMs < limitMs) {
      session.timeoutTimer = setTimeout(() => this.watchTimeout(session), limitMs - silentMs);
      return;
    }
    const phase = session.sawFirstPacket ? 'established' : 'initial';
    this.end(session);
    this.context.events.emit('mediaTimeout', { sessionId: session.id, phase, silentMs });
    this.context.events.emit('sessionClosed', {
      sessionId: session.id,
      reason: 'media_timeout',
      message: `no RTP for ${Math.round(silentMs / 1000)} s`,
    });
  }

  private end(session: LoopbackSession): void {
    this.sessions.delete(session.id);
    if (session.timeoutTimer) clearTimeout(session.timeoutTimer);
    session.timeoutTimer = null;
    session.lease.release();
  }
}

function emptyStats(): SessionStats {
  return {
    packetsReceived: 0,
    packetsSent: 0,
    bytesReceived: 0,
    bytesSent: 0,
    packetsLost: 0,
    jitterMs: 0,
    roundTripMs: null,
    mos: null,
  };
}
