import type { Logger } from 'pino';
import { MediaCommandError } from '../media/workers/mediaCommandError.js';

export const NO_CAPACITY = 'no media capacity';

/** The caller cancelled while the call was being answered. */
export class AnswerCanceled extends Error {
  override readonly name = 'AnswerCanceled';
}

/** Answering failed; `sipStatus` is the final response the caller should get. */
export class AnswerFailed extends Error {
  override readonly name = 'AnswerFailed';
  constructor(
    readonly sipStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What the caller gets when answering fails, whichever way it is answered (room, voicemail):
 * 488 for an offer with nothing usable, 503 for no media capacity or anything else.
 */
export function answerError(callId: string, error: unknown, logger: Logger): AnswerCanceled | AnswerFailed {
  if (error instanceof AnswerCanceled || error instanceof AnswerFailed) return error;
  if (error instanceof MediaCommandError && error.code.startsWith('sdp_')) {
    return new AnswerFailed(488, `the caller's offer is not acceptable: ${error.message}`);
  }
  if (error instanceof MediaCommandError && error.code === 'capacity') {
    logger.warn({ callId }, 'answer refused: every media worker is full');
    return new AnswerFailed(503, NO_CAPACITY);
  }
  logger.error({ callId, err: error }, 'answering failed');
  return new AnswerFailed(503, `answering failed: ${(error as Error).message}`);
}
