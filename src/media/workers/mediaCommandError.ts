import type { MediaCommandName, MediaErrorCode } from './mediaChannelTypes.js';

/**
 * A command that failed, in the main process. `code` is what callers branch on: the SIP layer
 * answers 488 for sdp_malformed / sdp_not_acceptable and 503 for capacity / ports_exhausted.
 */
export class MediaCommandError extends Error {
  override readonly name = 'MediaCommandError';

  constructor(
    readonly code: MediaErrorCode,
    message: string,
    readonly method: MediaCommandName | null = null,
  ) {
    super(message);
  }
}
