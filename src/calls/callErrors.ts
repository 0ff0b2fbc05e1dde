import type { Logger } from 'pino';
import { MediaCommandError } from '../media/workers/mediaCommandError.js';
import { GraphApiError } from '../signalling/graph/graphApi.js';
import type { RefusalKind } from '../signalling/outbound/finalResponses.js';

/**
 * Every error the call layer throws on purpose, in one place: the API layers map them to their
 * statuses (control/callCommandErrors.ts, control/routes/callCreateRoutes.ts), the inbound path
 * to SIP final responses.
 */

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
    /** When the far end's signalling (a WhatsApp provider) failed it: its status and words. */
    readonly provider?: { status: number | null; message: string },
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
  if (error instanceof GraphApiError) {
    logger.warn({ callId, status: error.status, err: error }, 'the WhatsApp provider failed the answer');
    return new AnswerFailed(502, error.message, { status: error.status, message: error.message });
  }
  if (error instanceof MediaCommandError && error.code === 'capacity') {
    logger.warn({ callId }, 'answer refused: every media worker is full');
    return new AnswerFailed(503, NO_CAPACITY);
  }
  logger.error({ callId, err: error }, 'answering failed');
  return new AnswerFailed(503, `answering failed: ${(error as Error).message}`);
}

/** The call is not waiting any more (answered, ended), so an accept or pre_accept cannot run. */
export class NotAnswerable extends Error {
  override readonly name = 'NotAnswerable';
  constructor(
    readonly kind: 'conflict',
    message: string,
  ) {
    super(message);
  }
}

/** Why a command could not run; the API layers turn it into their error JSON and status. */
export class CallCommandError extends Error {
  override readonly name = 'CallCommandError';
  constructor(
    readonly kind: 'invalid_request' | 'not_found' | 'conflict' | 'not_implemented' | 'answer_failed',
    message: string,
    /** For invalid_request: each field at fault, named as the client sent it. */
    readonly details?: { field: string; message: string }[],
  ) {
    super(message);
  }
}

/** Why a call was not placed; the API turns the kind into its status (README, "Outbound calls"). */
export class PlaceCallError extends Error {
  override readonly name = 'PlaceCallError';
  constructor(
    readonly kind:
      | 'unsupported_channel'
      | 'no_outbound_trunk'
      | 'whatsapp_not_enabled'
      | 'overloaded'
      | 'concurrency_limit'
      | 'whatsapp_no_permission'
      | 'provider_error',
    message: string,
    /** When the caller may try again (Retry-After), for a refusal that passes. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/**
 * Why a dial did not connect: a refusal by final response (busy, no_answer, declined,
 * trunk_error), no answer before the ring timeout, a media failure (session, answer SDP, room
 * join), or the dial given up by its caller (the request's signal).
 */
export type DialOutcome = RefusalKind | 'ring_timeout' | 'media_error' | 'provider_error' | 'canceled';

export class DialFailed extends Error {
  override readonly name = 'DialFailed';
  constructor(
    readonly outcome: DialOutcome,
    /** The far end's final response, when one decided the outcome. */
    readonly sipStatus: number | null,
    message: string,
    /** Its reason phrase (Meta's says why it refused). */
    readonly sipReason: string | null = null,
  ) {
    super(message);
  }
}

/** The flow was replaced or its call ended: the verb stops where it is, and so does the flow. */
export class FlowStopped extends Error {
  override readonly name = 'FlowStopped';
}

/** Audio for a playback or say could not be had (bad URL, refused file, download or decode failure). */
export class AudioUnavailable extends Error {
  override readonly name = 'AudioUnavailable';
}
