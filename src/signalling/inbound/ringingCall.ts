import type { Logger } from 'pino';
import { AnswerCanceled, AnswerFailed } from '../../calls/answerErrors.js';
import type { CallService } from '../../calls/callService.js';
import type { Call, EndReason, FinalStatus } from '../../calls/callTypes.js';
import type { AnswerOptions, InboundAnswer, PreparedAnswer } from '../../calls/inboundAnswer.js';
import type { Voicemail, VoicemailSettings } from '../../calls/voicemail.js';
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
  /** Takes a message; absent where this gateway runs no media plane. */
  voicemail?: Voicemail | undefined;
  /**
   * The app's voicemail (null when voicemailEnabled is false): the call goes there at the ring
   * timeout, or at once when `voicemailFirst` (defaultAnswerBehavior voicemail).
   */
  voicemailSettings?: VoicemailSettings | null;
  voicemailFirst?: boolean;
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
  /** Media set up by pre_accept (early media), kept until the accept or the end of the call. */
  private early: Promise<PreparedAnswer> | undefined;
  /** Ended without an answer (as opposed to `ended` by an accept taking the call over). */
  private endedUnanswered = false;

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
    if (this.deps.voicemailFirst && this.takesVoicemail()) {
      void this.toVoicemail();
      return;
    }
    this.deps.decisions.add(this.call.id, this);
    this.timer = setTimeout(() => {
      if (this.takesVoicemail()) {
        void this.toVoicemail();
        return;
      }
      this.end(
        {
          status: 'no_answer',
          endReason: 'ring_timeout',
          sip: { code: 480, why: 'no answer before ring timeout' },
        },
        'ring timeout',
      );
    }, this.deps.ringTimeoutMs);
  }

  private takesVoicemail(): boolean {
    return Boolean(this.deps.voicemail && this.deps.voicemailSettings);
  }

  /**
   * Nobody took the call (or the app sends every call there): voicemail answers it. Early media
   * of a pre_accept is released first: the room it joined has nobody to hear the caller.
   */
  private async toVoicemail(): Promise<void> {
    const voicemail = this.deps.voicemail;
    const settings = this.deps.voicemailSettings;
    if (this.ended || !voicemail || !settings) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.deps.decisions.remove(this.call.id);
    void this.early?.then(
      (prepared) => prepared.release(),
      () => undefined,
    );
    try {
      await voicemail.take(this.call, this.req, this.res, settings, () => this.canceled);
    } catch (error) {
      if (error instanceof AnswerCanceled || this.canceled) {
        this.record({ status: 'canceled', endReason: 'canceled' }, 'canceled while going to voicemail');
        return;
      }
      const status = error instanceof AnswerFailed ? error.sipStatus : 500;
      refuse(this.res, status, (error as Error).message);
      this.record(
        { status: 'failed', endReason: 'media_error', sip: { code: status, why: '' } },
        'voicemail failed',
      );
    }
  }

  /**
   * A pre_accept action: the media side is set up now and its answer goes out in a 183 Session
   * Progress, so audio flows both ways before the 200 OK and nothing the caller says after the
   * accept is clipped by room-join time. The call keeps ringing (and its ring timeout) until an
   * accept or another way out.
   */
  async preAccept(): Promise<void> {
    const answer = this.answerer();
    if (this.ended) throw new NotAnswerable('conflict', `call ${this.call.id} is no longer ringing`);
    if (this.early) {
      await this.early;
      return;
    }
    const early = answer.prepare(this.call, this.req, () => this.canceled || this.endedUnanswered);
    this.early = early;
    let prepared: PreparedAnswer;
    try {
      prepared = await early;
    } catch (error) {
      this.early = undefined;
      if (this.endedUnanswered)
        throw new NotAnswerable('conflict', `call ${this.call.id} ended during pre_accept`);
      throw error;
    }
    if (this.endedUnanswered) {
      // Ended (cancel, timeout, hangup) just as the media became ready: `end` found nothing to
      // release then, so release it here.
      prepared.release();
      throw new NotAnswerable('conflict', `call ${this.call.id} ended during pre_accept`);
    }
    // An accept that started meanwhile sends the 200 OK itself; a 183 after it would be wrong.
    if (!this.ended) this.res.send(183, undefined, { body: prepared.localSdp });
  }

  /**
   * An accept/connect action: stops ringing and answers into the room (reusing the media of a
   * pre_accept if there was one). A CANCEL during the answer ends the call as canceled; a
   * failure refuses the caller and records media_error.
   */
  async accept(options: AnswerOptions = {}): Promise<void> {
    const answer = this.answerer();
    if (this.ended) throw new NotAnswerable('conflict', `call ${this.call.id} is no longer ringing`);
    this.ended = true;
    clearTimeout(this.timer);
    this.deps.decisions.remove(this.call.id);
    const canceled = () => this.canceled;
    try {
      const prepared = this.early ? await this.early : await answer.prepare(this.call, this.req, canceled);
      await answer.complete(this.call, prepared, this.req, this.res, canceled, options);
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

  private answerer(): InboundAnswer {
    const answer = this.deps.answer;
    if (!answer)
      throw new NotAnswerable('not_implemented', 'this gateway runs no media plane to answer calls');
    return answer;
  }

  /** 180 Ringing again, while the call still rings (a call flow's ringing verb). */
  ring(): void {
    if (!this.ended) this.res.send(180);
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
    this.endedUnanswered = true;
    clearTimeout(this.timer);
    this.deps.decisions.remove(this.call.id);
    // Early media set up by pre_accept goes with the call; one still being set up releases
    // itself when it finds the call ended.
    void this.early?.then(
      (prepared) => prepared.release(),
      () => undefined,
    );
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
