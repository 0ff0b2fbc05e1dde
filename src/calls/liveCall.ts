import type { Logger } from 'pino';
import type { MediaSession } from '../media/workers/MediaSession.js';
import { FlowStopped } from './callErrors.js';
import type { AwaitingDecision, CallPhase, PhaseControl } from './callPhases.js';
import type { CallService } from './callService.js';
import type { TransitionRequest, TransitionResult } from './callServiceTypes.js';
import type { FinalStatus } from './callTypes.js';
import type { FlowRunner } from './flow/flowRunner.js';

export interface LiveCallDeps {
  calls: CallService;
  logger: Logger;
  /** Follows the quality of the call's own leg once it is answered with a media session. */
  quality?: { track(callId: string, session: MediaSession): void };
  /** Called once when the call has closed (the registry forgets it). */
  onClosed(call: LiveCall): void;
}

interface AnswerWaiter {
  resolve(session: MediaSession): void;
  reject(error: Error): void;
}

/**
 * One live call, from its creation to its end: the one object commands, flows, voicemail and
 * shutdown ask about it. It knows its phase and the code running it (`PhaseControl`: a ringing
 * call, a dial, a bridge), its media session once answered, and its call flow.
 *
 * Every resource a call takes is handed to it with `own` and released in one place, `close`,
 * which runs once on every way a call ends: its end recorded through `end`, or any final status
 * the call service records for it. The concurrency slot is the call's live status in storage, so
 * it is free the moment the end is recorded.
 */
export class LiveCall {
  private current: CallPhase = 'ringing';
  private control: PhaseControl | undefined;
  private waiting: AwaitingDecision | undefined;
  private session: MediaSession | undefined;
  private runner: FlowRunner | undefined;
  private readonly releases: (() => void)[] = [];
  private readonly answerWaiters = new Set<AnswerWaiter>();
  private closed = false;

  constructor(
    readonly id: string,
    readonly appId: string,
    private readonly deps: LiveCallDeps,
  ) {}

  get phase(): CallPhase {
    return this.current;
  }

  /** The ringing call waiting for an accept/reject action, while it waits. */
  get decision(): AwaitingDecision | undefined {
    return this.current === 'ringing' ? this.waiting : undefined;
  }

  /** The media session of the call's own leg, once answered with one. */
  get media(): MediaSession | undefined {
    return this.session;
  }

  /** The code running the call once answered (a BridgedCall, for a transfer on its leg). */
  get answeredControl(): PhaseControl | undefined {
    return this.current === 'answered' ? this.control : undefined;
  }

  /** The running call flow, if any. */
  get flow(): FlowRunner | undefined {
    return this.runner;
  }

  /** It rings, run by `control`; `decision` when it waits for an action. */
  ringing(control: PhaseControl, decision?: AwaitingDecision): void {
    if (this.closed) return;
    this.current = 'ringing';
    this.control = control;
    this.waiting = decision;
  }

  /** An answer is under way: no hangup or decision can act on it until it is answered or ends. */
  answering(): void {
    if (this.closed) return;
    this.current = 'answering';
    this.control = undefined;
    this.waiting = undefined;
  }

  /** Answered, run by `control` from now on; flows waiting for the answer get `session`. */
  answered(control: PhaseControl, session?: MediaSession): void {
    if (this.closed) return;
    this.current = 'answered';
    this.control = control;
    this.waiting = undefined;
    this.session = session;
    if (session) this.deps.quality?.track(this.id, session);
    const waiters = [...this.answerWaiters];
    this.answerWaiters.clear();
    for (const waiter of waiters) {
      if (session) waiter.resolve(session);
      else waiter.reject(new FlowStopped(`call ${this.id} has no answered SIP leg`));
    }
  }

  /** Hands a resource to the call: `release` runs once, when the call closes (at once if it has). */
  own(release: () => void): void {
    if (this.closed) release();
    else this.releases.push(release);
  }

  /**
   * A hangup command: a ringing call is refused (`sipCode` when given, for a call waiting for a
   * decision), an answered one gets its BYE. False when the call cannot be hung up now (being
   * answered, or ending).
   */
  hangup(sipCode?: number): boolean {
    if (this.current === 'ringing' && this.waiting && sipCode !== undefined) {
      this.waiting.reject(sipCode);
      return true;
    }
    if ((this.current !== 'ringing' && this.current !== 'answered') || !this.control) return false;
    this.control.hangup();
    return true;
  }

  /** The gateway is stopping: end the call now; resolves once the far end has been told. */
  shutdown(): Promise<void> {
    return this.control && !this.closed ? this.control.shutdown() : Promise.resolve();
  }

  /** Starts `runner` as the call's flow, stopping the one it replaces. */
  runFlow(runner: FlowRunner): void {
    this.runner?.stop('replaced by a new flow');
    this.runner = runner;
    if (this.closed) runner.stop('call ended');
  }

  /** The flow finished by itself; a newer one stays. */
  flowDone(runner: FlowRunner): void {
    if (this.runner === runner) this.runner = undefined;
  }

  /**
   * The media session once the call is answered. A call waiting for a decision is answered now,
   * as an accept action would; one being answered (accept, an outbound callee picking up) is
   * waited for. Rejects with FlowStopped when it ends first, or is answered without a SIP leg.
   */
  whenAnswered(): Promise<MediaSession> {
    if (this.session) return Promise.resolve(this.session);
    if (this.closed || this.current === 'ending' || this.current === 'answered') {
      return Promise.reject(new FlowStopped(`call ${this.id} has no answered SIP leg`));
    }
    const answered = new Promise<MediaSession>((resolve, reject) => {
      this.answerWaiters.add({ resolve, reject });
    });
    // The accept path itself: its failures end the call, which rejects the wait.
    this.decision
      ?.accept()
      .catch((error: unknown) =>
        this.deps.logger.warn({ callId: this.id, err: error }, 'call flow could not answer the call'),
      );
    return answered;
  }

  /**
   * Records the call's end (the one final status it gets) and closes it. The result says whether
   * this end was the one recorded: a call two sides end at once records only the first.
   */
  end(request: TransitionRequest & { to: FinalStatus }): TransitionResult {
    if (!this.closed) this.current = 'ending';
    const result = this.deps.calls.transition(this.id, request);
    this.close(`call ended (${request.endReason})`);
    return result;
  }

  /** Releases everything the call holds, once: flow, waiters, owned resources. */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.current = 'ending';
    this.control = undefined;
    this.waiting = undefined;
    this.runner?.stop(why);
    this.runner = undefined;
    const waiters = [...this.answerWaiters];
    this.answerWaiters.clear();
    for (const waiter of waiters) waiter.reject(new FlowStopped(`call ${this.id} ended`));
    for (const release of this.releases.splice(0)) {
      try {
        release();
      } catch (error) {
        this.deps.logger.warn({ callId: this.id, err: error }, 'releasing a call resource failed');
      }
    }
    this.deps.onClosed(this);
  }
}
