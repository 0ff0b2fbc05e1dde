import { hostCandidate } from '../ice/iceCandidate.js';
import { newIceCredentials } from '../ice/iceCredentials.js';
import { RtpPortAllocator } from '../ports/RtpPortAllocator.js';
import { SdpSession } from '../sdp/SdpSession.js';
import type {
  CloseSessionParams,
  CloseSessionResult,
  CreateSessionParams,
  CreateSessionResult,
  SessionCloseReason,
} from '../workers/mediaChannelTypes.js';
import { MediaCommandError } from '../workers/mediaCommandError.js';
import type { WorkerContext } from '../workers/sessionHandlerTypes.js';
import { mediaTimeoutsOf } from './mediaTimeout.js';
import type {
  RegisteredSession,
  SecureMediaParts,
  SessionParts,
  SessionRegistryOptions,
} from './sessionRegistryTypes.js';

/**
 * The sessions of one worker and the bookkeeping every SessionHandler owes the main process
 * (sessionHandlerTypes.ts): ids unique, ports leased from this worker's slice and released on
 * every path, the first SDP exchange, unknown ids refused with session_not_found, and a session
 * that ends on its own reported with sessionClosed exactly once. A handler supplies only how a
 * session carries media.
 */
export class SessionRegistry<S extends RegisteredSession> {
  private readonly sessions = new Map<string, S>();
  private readonly allocator: RtpPortAllocator;

  constructor(
    private readonly context: WorkerContext,
    private readonly options: SessionRegistryOptions = {},
  ) {
    this.allocator = new RtpPortAllocator({
      range: context.init.portRange,
      bindAddress: context.init.bindAddress,
    });
  }

  status(): { sessions: number; portsInUse: number } {
    return { sessions: this.sessions.size, portsInUse: this.allocator.inUse };
  }

  /**
   * Leases a port pair, answers the peer's offer (or makes ours), has `build` make the session
   * from those parts, registers and starts it. Anything failing on the way releases the lease.
   */
  async create(params: CreateSessionParams, build: (parts: SessionParts) => S): Promise<CreateSessionResult> {
    this.assertNew(params.sessionId);
    const lease = await this.allocator.allocate();
    try {
      const { init } = this.context;
      const secure = await this.secureParts(params, init.advertisedAddress, lease.rtpPort);
      const sdp = new SdpSession({
        codecs: init.codecs,
        address: init.advertisedAddress,
        rtpPort: lease.rtpPort,
        ...(params.encryption ? { encryption: params.encryption } : {}),
        ...(secure ? { dtls: { fingerprint: secure.certificate.fingerprint, ice: secure.ice } } : {}),
      });
      const answer = params.remoteOffer === null ? null : sdp.answerOffer(params.remoteOffer);
      const offer = answer ? null : sdp.createOffer();
      // A second createSession with the same id may have raced us through the await above.
      this.assertNew(params.sessionId);
      const session = build({
        id: params.sessionId,
        callId: params.callId,
        lease,
        sdp,
        timeouts: mediaTimeoutsOf(init),
        awaitingAnswer: params.awaitingAnswer === true && answer !== null,
        secure,
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

  /** DTLS needs the certificate and fresh ICE credentials; other policies need neither. */
  private async secureParts(
    params: CreateSessionParams,
    address: string,
    rtpPort: number,
  ): Promise<SecureMediaParts | null> {
    const method = params.encryption?.method;
    if ((method !== 'dtls' && method !== 'sdes_or_dtls') || !this.options.certificate) return null;
    return {
      certificate: await this.options.certificate(),
      ice: newIceCredentials(),
      localCandidate: hostCandidate(address, rtpPort),
    };
  }

  /** The session a command names; session_not_found when this worker has none by that id. */
  get(id: string): S {
    const session = this.sessions.get(id);
    if (!session) throw new MediaCommandError('session_not_found', `no session ${id} in this worker`);
    return session;
  }

  /** closeSession: closing a session already gone answers `closed: false`, not an error. */
  async close(params: CloseSessionParams): Promise<CloseSessionResult> {
    const session = this.sessions.get(params.sessionId);
    if (!session) return { closed: false, stats: null };
    this.sessions.delete(session.id);
    return { closed: true, stats: await session.close() };
  }

  /** Closes every session (worker shutdown); resolves with how many were open. */
  async closeAll(): Promise<number> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map((session) => session.close()));
    return open.length;
  }

  /**
   * A session ended on its own (media timeout, room gone, socket failure), its resources
   * already released: forgets it and reports sessionClosed. Once only: a session closed by
   * command or shutdown meanwhile is answered there, not reported.
   */
  ended(sessionId: string, reason: SessionCloseReason, message: string): void {
    if (!this.sessions.delete(sessionId)) return;
    this.options.logger?.info({ sessionId, reason, message }, 'media session ended');
    this.context.events.emit('sessionClosed', { sessionId, reason, message });
  }

  private assertNew(sessionId: string): void {
    if (this.sessions.has(sessionId)) {
      throw new MediaCommandError('session_exists', `session ${sessionId} exists`, 'createSession');
    }
  }
}
