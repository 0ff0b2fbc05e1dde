import type { Logger } from 'pino';
import type { CallService } from '../../calls/callService.js';
import type { Call, EndReason, FinalStatus } from '../../calls/callTypes.js';
import { AnswerCanceled, AnswerFailed, type InboundAnswer } from '../../calls/inboundAnswer.js';
import type { InboundRequest, InboundResponse } from '../srfTypes.js';
import type { AwaitingDecision, PendingDecisions } from './pendingDecisions.js';
import { refuse } from './sipRefusal.js';

export interface RingingCallDeps {
  calls: CallService;
  decisions: PendingDecisions;
  ringTimeoutMs: number;
  logger: Logger;
  /** Answers the call into its room; absent where this gateway runs no media plane. */
  answer: InboundAnswer | undefined;
}

/** The call is not waiting any more (answered, ended) or cannot be answered here. */
export class NotAnswerable extends Error {
  override readonly name = 'NotAnswerable';
  constructor(
    readonly kind: 'conflict' | 'not_implemented',
    message: string,
  ) {
    super(message);
  }
}

interface Ending {
  status: FinalStatus;
  endReason: EndReason;
  /** The SIP final response still to send, if any (a CANCEL was already answered 487). */
  sip?: { code: number; why: string };
}

/**
 * An inbound call from 180 Ringing until it is decided: it waits for an action, and ends on
 * CANCEL, ring timeout, reject or shutdown. Every way out goes through `end`, which runs once:
 * it clears the timer, leaves the pending set, answers SIP if still needed and records the final
 * status, so no path leaks a timer or a concurrency slot.
 */
export class RingingCall implements AwaitingDecision {
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  /** Set by CANCEL at any time, also while an answer is under way (which then stops). */
  private canceled = false;

  constructor(
    private readonly call: Call,
    private readonly req: InboundRequest,
    private readonly res: InboundResponse,
    private readonly deps: RingingCallDeps,
  ) {}

  start(): void {
    this.req.on('cancel', () => {
      this.canceled = true;
      this.end({ status: 'canceled', endReason: 'canceled' }, 'caller canceled');
    });
    this.res.send(180);
    this.deps.calls.transition(this.call.id, { to: 'ringing' });
    this.deps.decisions.add(this.call.id, this);
    this.timer = setTimeout(
      () =>
        this.end(
          {
            status: 'no_answer',
            endReason: 'ring_timeout',
            sip: { code: 480, why: 'no answer before ring timeout' },
          },
          'ring timeout',
        ),
      this.deps.ringTimeoutMs,
    );
  }

  /**
   * An accept/connect action: stops ringing and answers into the room. A CANCEL during the answer
   * ends the call as canceled; a failure refuses the caller and records media_error.
   */
  async accept(): Promise<void> {
    const answer = this.deps.answer;
    if (!answer)
      throw new NotAnswerable('not_implemented', 'this gateway runs no media plane to answer calls');
    if (this.ended) throw new NotAnswerable('conflict', `call ${this.call.id} is no longer ringing`);
    this.ended = true;
    clearTimeout(this.timer);
    this.deps.decisions.remove(this.call.id);
    try {
      await answer.answer(this.call, this.req, this.res, () => this.canceled);
    } catch (error) {
      if (error instanceof AnswerCanceled || this.canceled) {
        this.record({ status: 'canceled', endReason: 'canceled' }, 'canceled while answering');
        return;
      }
      const status = error instanceof AnswerFailed ? error.sipStatus : 500;
      refuse(this.res, status, (error as Error).message);
      this.record(
        { status: 'failed', endReason: 'media_error', sip: { code: status, why: '' } },
        'answer failed',
      );
      throw error;
    }
  }

  /** An app's reject action: 486/600 read as busy, anything else as a refusal. */
  reject(status: number): void {
    const busy = status === 486 || status === 600;
    this.end(
      {
        status: busy ? 'busy' : 'failed',
        endReason: busy ? 'busy' : 'rejected',
        sip: { code: status, why: 'rejected by the app' },
      },
      'rejected',
    );
  }

  hangup(): void {
    this.end(
      { status: 'failed', endReason: 'api_hangup', sip: { code: 480, why: 'hung up before answer' } },
      'hung up by command',
    );
  }

  /** The gateway is stopping: a call nobody answered yet is refused rather than left ringing. */
  shutdown(): void {
    this.end(
      { status: 'failed', endReason: 'gateway_shutdown', sip: { code: 503, why: 'gateway shutting down' } },
      'shutdown',
    );
  }

  private end(ending: Ending, what: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.deps.decisions.remove(this.call.id);
    if (ending.sip) refuse(this.res, ending.sip.code, ending.sip.why);
    this.record(ending, what);
  }

  private record(ending: Ending, what: string): void {
    const result = this.deps.calls.transition(this.call.id, {
      to: ending.status,
      endReason: ending.endReason,
      ...(ending.sip
        ? { sipStatus: ending.sip.code }
        : ending.endReason === 'canceled'
          ? { sipStatus: 487 }
          : {}),
    });
    this.deps.logger.info(
      { callId: this.call.id, ended: what, recorded: result.ok },
      'inbound call ended before answer',
    );
  }
}
