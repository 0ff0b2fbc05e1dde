import { FrameClock } from '../../../src/media/session/frameClock.js';
import { SessionRegistry } from '../../../src/media/session/SessionRegistry.js';
import { SessionCommandRouter } from '../../../src/media/session/sessionCommandRouter.js';
import type {
  CreateSessionParams,
  CreateSessionResult,
} from '../../../src/media/workers/mediaChannelTypes.js';
import type { WorkerContext } from '../../../src/media/workers/sessionHandlerTypes.js';
import { LoopbackStandInSession } from './loopbackStandInSession.js';

/**
 * STAND-IN for RtpSessionHandler, run by media workers in tests (entry loopbackStandInEntry.ts).
 * Its bookkeeping and command routing are production's own (SessionRegistry, SessionCommandRouter):
 * the same port leases, first SDP exchange, id checks and once-only sessionClosed, so it cannot
 * drift from the real handler.
 * Only each session's media is faked (LoopbackStandInSession): RTP echoed, no room, no recording.
 */
export class LoopbackStandInHandler extends SessionCommandRouter<LoopbackStandInSession> {
  private readonly clock = new FrameClock();

  constructor(private readonly context: WorkerContext) {
    super(new SessionRegistry(context));
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

  async shutdown(): Promise<number> {
    const closed = await this.sessions.closeAll();
    this.clock.stop();
    return closed;
  }
}
