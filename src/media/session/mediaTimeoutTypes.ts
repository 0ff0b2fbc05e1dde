import type { MediaTimeoutEvent } from '../workers/mediaChannelTypes.js';

export interface MediaTimeouts {
  /** No RTP this long before the first packet ends the session (media.timeoutInitialSeconds). */
  initialMs: number;
  /** No RTP this long after it (media.timeoutSeconds). */
  establishedMs: number;
}

/** Why a silent session ends: the mediaTimeout event's fields and the sessionClosed message. */
export interface MediaTimeoutVerdict {
  phase: MediaTimeoutEvent['phase'];
  /** Whole milliseconds, as the mediaTimeout event carries them. */
  silentMs: number;
  message: string;
}
