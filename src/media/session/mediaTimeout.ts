import type { MediaDirection } from '../sdp/sdpTypes.js';
import type { WorkerInit } from '../workers/mediaChannelTypes.js';
import type { MediaTimeouts, MediaTimeoutVerdict } from './mediaTimeoutTypes.js';

/** The limits a worker's config sets (whole seconds) in the milliseconds the clock counts. */
export function mediaTimeoutsOf(
  init: Pick<WorkerInit, 'timeoutInitialSeconds' | 'timeoutSeconds'>,
): MediaTimeouts {
  return { initialMs: init.timeoutInitialSeconds * 1000, establishedMs: init.timeoutSeconds * 1000 };
}

/** The sessionClosed message of a media timeout; `silentMs` unrounded, so a tenth of a second shows. */
export function mediaTimeoutMessage(silentMs: number): string {
  return `no RTP for ${(silentMs / 1000).toFixed(1)} s`;
}

/**
 * Whether our direction expects RTP from the peer. sendonly (we hold the peer) and inactive do
 * not; neither does a session with no agreed stream yet (our offer waits for its answer).
 */
export function expectsRtp(direction: MediaDirection | null | undefined): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

/**
 * One session's media timeout: how long the peer has been silent, measured on the caller's
 * monotonic clock and checked by the caller's tick. It holds no timer, so a worker's sessions
 * share the one clock that already drives them.
 */
export class MediaTimeout {
  private sawFirstPacket = false;
  private lastRtpAt: number;

  constructor(
    private readonly limits: MediaTimeouts,
    nowMs: number,
  ) {
    this.lastRtpAt = nowMs;
  }

  /** RTP arrived. True for the session's first packet, the cue for its firstPacket event. */
  heard(nowMs: number): boolean {
    const first = !this.sawFirstPacket;
    this.sawFirstPacket = true;
    this.lastRtpAt = nowMs;
    return first;
  }

  /** Media was (re)negotiated: resuming or not, silence counts from now, not from before a hold. */
  restart(nowMs: number): void {
    this.lastRtpAt = nowMs;
  }

  /**
   * Null while the peer is within its limit; once it has sent no RTP for the limit while we
   * expect some, why the session ends. While we expect none the clock stands (a hold is no
   * silence), so resuming starts a full limit.
   */
  check(nowMs: number, direction: MediaDirection | null | undefined): MediaTimeoutVerdict | null {
    if (!expectsRtp(direction)) {
      this.lastRtpAt = nowMs;
      return null;
    }
    const limit = this.sawFirstPacket ? this.limits.establishedMs : this.limits.initialMs;
    const silentMs = nowMs - this.lastRtpAt;
    if (silentMs < limit) return null;
    return {
      phase: this.sawFirstPacket ? 'established' : 'initial',
      silentMs: Math.round(silentMs),
      message: mediaTimeoutMessage(silentMs),
    };
  }
}
