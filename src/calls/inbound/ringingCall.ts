import type { Logger } from 'pino';
import { AnswerCanceled, AnswerFailed, NotAnswerable } from '../callErrors.js';
import type { AnswerOptions, AwaitingDecision } from '../callPhases.js';
import type { CallService } from '../callService.js';
import type { Call, EndReason, FinalStatus } from '../callTypes.js';
import type { IncomingLeg } from '../legs/callLeg.js';
import type { LiveCall } from '../liveCall.js';
import type { InboundAnswer, PreparedAnswer } from './inboundAnswer.js';
import type { Voicemail, VoicemailSettings } from './voicemail.js';

export interface RingingCallDeps {
  calls: CallService;
  ringTimeoutMs: number;
  logger: Logger;
  answer: InboundAnswer;
  voicemail: Voicemail;
  /**
   * The app's voicemail (null when voicemailEnabled is false): the call goes there at the ring
   * timeout, or at once when `voicemailFirst` (defaultAnswerBehavior voicemail).
   */
  voicemailSettings: VoicemailSettings | null;
  voicemailFirst: boolean;
}

interface Ending {
  status: FinalStatus;
  endReason: EndReason;
  /** The SIP final response still to send, if any (a CANCEL was already answered 487). */
  sip?: { code: number; why: string };
  /** What the far end said when it failed the call (a WhatsApp provider's error). */
  farEnd?: string;
}

/**
 * An inbound call from 180 Ringing until it is decided: it waits for an action, and ends on
 * CANCEL, ring timeout, reject or shutdown. Every way out goes through `end`, which runs once:
 * the far end gets its final response if it still needs one, and the call records its end, which
 * releases what it holds (ring timer, early media) in one place (LiveCall.close).
 */
export class RingingCall implements AwaitingDecision {
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  /** Set by CANCEL at any time, also while an answer is under way (which then stops). */
  private canceled = false;
  /**
   * The answer's media, set up as the call starts ringing (or by the first pre_accept or accept
   * after that failed), kept until the accept or the end of the call.
   */
  private early: Promise<PreparedAnswer> | undefined;
  /** Ended without an answer (as opposed to `ended` by an accept taking the call over). */
  private endedUnanswered = false;

  constructor(
    private readonly call: Call,
    private readonly live: LiveCall,
    private readonly leg: IncomingLeg,
    private readonly deps: RingingCallDeps,
  ) {}

  start(): void {
    this.leg.onCancel(() => {
      this.canceled = true;
      this.end({ status: 'canceled', endReason: 'canceled' }, 'caller canceled');
    });
    this.leg.ring();
    this.deps.calls.transition(this.call.id, { to: 'ringing' });
    this.live.own(() => clearTimeout(this.timer));
    if (this.deps.voicemailFirst && this.deps.voicemailSettings) {
      void this.toVoicemail();
      return;
    }
    this.live.ringing(this, this);
    // The room join takes hundreds of ms; done while the phone rings, an accept only answers.
    this.prepareMedia().catch((error: unknown) =>
      this.deps.logger.warn(
        { callId: this.call.id, err: error },
        'media not ready while ringing; the answer sets it up again',
      ),
    );
    this.timer = setTimeout(() => {
      if (this.deps.voicemailSettings) {
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

  /** Stops ringing for good: an answer (accept, voicemail) takes the call over. */
  private takeOver(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.live.answering();
  }

  /**
   * Nobody took the call (or the app sends every call there): voicemail answers it. Early media
   * of a pre_accept is released first: the room it joined has nobody to hear the caller.
   */
  private async toVoicemail(): Promise<void> {
    const settings = this.deps.voicemailSettings;
    if (this.ended || !settings) return;
    this.takeOver();
    this.releaseEarly();
    try {
      await this.deps.voicemail.take(this.live, this.call, this.leg, settings, () => this.canceled);
    } catch (error) {
      this.failedAnswer(error, 'voicemail failed');
    }
  }

  /**
   * The answer's media: the session made from the caller's offer, joined to the room, silent
   * until startMedia. One preparation at a time; a failed one is forgotten so the next action
   * tries again. Media that becomes ready after the call ended unanswered is released at once
   * (LiveCall.own releases on a closed call).
   */
  private prepareMedia(): Promise<PreparedAnswer> {
    if (this.early) return this.early;
    const early = this.deps.answer.prepare(
      this.call,
      this.leg.offer,
      () => this.canceled || this.endedUnanswered,
    );
    this.early = early;
    early.then(
      (prepared) => this.live.own(() => prepared.release()),
      () => {
        if (this.early === early) this.early = undefined;
      },
    );
    return early;
  }

  /**
   * A pre_accept action: the answer goes out in a 183 Session Progress, so audio flows both ways
   * before the 200 OK and nothing the caller says after the accept is clipped. The call keeps
   * ringing (and its ring timeout) until an accept or another way out.
   */
  async preAccept(): Promise<void> {
    if (this.ended) throw new NotAnswerable('conflict', `call ${this.call.id} is no longer ringing`);
    let prepared: PreparedAnswer;
    try {
      prepared = await this.prepareMedia();
      if (!this.endedUnanswered) await prepared.startMedia();
    } catch (error) {
      if (this.endedUnanswered)
        throw new NotAnswerable('conflict', `call ${this.call.id} ended during pre_accept`);
      throw error;
    }
    if (this.endedUnanswered)
      throw new NotAnswerable('conflict', `call ${this.call.id} ended during pre_accept`);
    // An accept that started meanwhile sends the 200 OK itself; a 183 after it would be wrong.
    if (!this.ended) this.leg.earlyMedia(prepared.localSdp);
  }

  /**
   * An accept/connect action: stops ringing and answers into the room (reusing the media of a
   * pre_accept if there was one). A CANCEL during the answer ends the call as canceled; a
   * failure refuses the caller and records media_error.
   */
  async accept(options: AnswerOptions = {}): Promise<void> {
    if (this.ended) throw new NotAnswerable('conflict', `call ${this.call.id} is no longer ringing`);
    this.takeOver();
    const canceled = () => this.canceled;
    const { answer } = this.deps;
    try {
      // Ready since ringing as a rule; one that failed then (workers were full) is tried again.
      const prepared = this.early
        ? await this.early.catch((error: unknown) => {
            if (canceled()) throw error;
            return answer.prepare(this.call, this.leg.offer, canceled);
          })
        : await answer.prepare(this.call, this.leg.offer, canceled);
      await answer.complete(this.live, this.call, prepared, this.leg, canceled, options);
    } catch (error) {
      this.failedAnswer(error, 'answer failed');
      throw error;
    }
  }

  /** 180 Ringing again, while the call still rings (a call flow's ringing verb). */
  ring(): void {
    if (!this.ended) this.leg.ring();
  }

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
  shutdown(): Promise<void> {
    this.end(
      { status: 'failed', endReason: 'gateway_shutdown', sip: { code: 503, why: 'gateway shutting down' } },
      'shutdown',
    );
    return Promise.resolve();
  }

  /** An answer (room or voicemail) failed or was cancelled: the caller is refused, the end recorded. */
  private failedAnswer(error: unknown, what: 'answer failed' | 'voicemail failed'): void {
    if (error instanceof AnswerCanceled || this.canceled) {
      const during = what === 'answer failed' ? 'answering' : 'going to voicemail';
      this.record({ status: 'canceled', endReason: 'canceled' }, `canceled while ${during}`);
      return;
    }
    const status = error instanceof AnswerFailed ? error.sipStatus : 500;
    this.leg.refuse(status, (error as Error).message);
    const provider = error instanceof AnswerFailed ? error.provider : undefined;
    this.record(
      provider
        ? {
            status: 'failed',
            endReason: 'provider_error',
            farEnd: provider.message,
            ...(provider.status === null ? {} : { sip: { code: provider.status, why: provider.message } }),
          }
        : { status: 'failed', endReason: 'media_error', sip: { code: status, why: '' } },
      what,
    );
  }

  private releaseEarly(): void {
    void this.early?.then(
      (prepared) => prepared.release(),
      () => undefined,
    );
  }

  private end(ending: Ending, what: string): void {
    if (this.ended) return;
    this.ended = true;
    this.endedUnanswered = true;
    // Early media still being set up releases itself when it finds the call ended.
    this.releaseEarly();
    if (ending.sip) this.leg.refuse(ending.sip.code, ending.sip.why);
    this.record(ending, what);
  }

  private record(ending: Ending, what: string): void {
    const result = this.live.end({
      to: ending.status,
      endReason: ending.endReason,
      ...(ending.farEnd ? { sipReason: ending.farEnd } : {}),
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
