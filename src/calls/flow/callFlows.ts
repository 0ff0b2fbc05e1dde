import type { Logger } from 'pino';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { PendingDecisions } from '../../signalling/inbound/pendingDecisions.js';
import type { ActiveCalls } from '../activeCalls.js';
import { CallCommandError } from '../callCommands.js';
import type { CallService } from '../callService.js';
import { type Call, isFinal } from '../callTypes.js';
import type { AudioPrompts } from './audio/audioPrompts.js';
import { createVerb, NOT_IMPLEMENTED } from './createVerb.js';
import { type CallLeg, FlowRunner } from './flowRunner.js';
import type { FlowVerbSpec } from './flowSchemas.js';
import { FlowStopped } from './flowTypes.js';

export interface CallFlowsDeps {
  calls: CallService;
  decisions: PendingDecisions;
  active: ActiveCalls;
  audio: AudioPrompts;
  logger: Logger;
}

interface AnswerWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The running call flow of each call, at most one. A new flow replaces the running one (which
 * stops at once, playback included); a call's end stops its flow, whatever ended it. Flows act on
 * the call through the same objects as the API: the ringing call (answer, 180, refuse) and the
 * answered call (media session, BYE).
 */
export class CallFlows implements CallLeg {
  private readonly runners = new Map<string, FlowRunner>();
  /** Flows waiting for their call to be answered (by themselves or by an accept action). */
  private readonly answerWaiters = new Map<string, Set<AnswerWaiter>>();

  constructor(private readonly deps: CallFlowsDeps) {
    deps.calls.on('transition', (call) => this.onTransition(call));
  }

  /**
   * Refuses, before anything runs, a flow this build cannot run (501: record, bridge) or naming
   * a local file outside media.playback.fileDirs (400, naming the field).
   */
  check(flow: readonly FlowVerbSpec[]): void {
    for (const [index, spec] of flow.entries()) {
      const missing = NOT_IMPLEMENTED[spec.command];
      if (missing) throw new CallCommandError('not_implemented', `callFlow[${index}]: ${missing}`);
    }
    const problems: { field: string; message: string }[] = [];
    for (const [index, spec] of flow.entries()) {
      const audio =
        spec.command === 'playback'
          ? { field: 'url', spec }
          : spec.command === 'gather' && spec.prompt?.command === 'playback'
            ? { field: 'prompt.url', spec: spec.prompt }
            : undefined;
      const refusal = audio && this.deps.audio.refusal(audio.spec.url);
      if (refusal) problems.push({ field: `callFlow[${index}].${audio.field}`, message: refusal });
    }
    if (problems.length > 0) {
      throw new CallCommandError('invalid_request', 'a playback names a file it may not read', problems);
    }
  }

  /** Replaces the call's running flow with `flow` (checked already) and starts it. */
  replace(call: Call, flow: readonly FlowVerbSpec[]): void {
    if (isFinal(call.status))
      throw new CallCommandError('conflict', `call ${call.id} already ended as ${call.status}`);
    if (call.direction === 'outbound' && call.toChannel === 'webrtc') {
      throw new CallCommandError('conflict', `call ${call.id} has no SIP leg to run a flow on`);
    }
    // Ringing inbound (waiting for a decision), or answered, or an outbound call being dialled
    // (its flow waits for the answer), or being answered by the flow this one replaces (it waits
    // for that answer); not an inbound call in the middle of an accept action.
    if (!this.deps.active.get(call.id) && !this.deps.decisions.get(call.id) && !this.runners.has(call.id)) {
      throw new CallCommandError(
        'conflict',
        `call ${call.id} is ${call.status} and being answered; send the flow again once it is answered`,
      );
    }
    this.runners.get(call.id)?.stop('replaced by a new flow');
    const runner = new FlowRunner(call.id, flow.map(createVerb), {
      leg: this,
      audio: this.deps.audio,
      logger: this.deps.logger,
    });
    this.runners.set(call.id, runner);
    this.deps.logger.info({ callId: call.id, verbs: flow.map((spec) => spec.command) }, 'call flow started');
    void runner.run().finally(() => {
      if (this.runners.get(call.id) === runner) this.runners.delete(call.id);
    });
  }

  async answered(callId: string): Promise<MediaSession> {
    const current = this.deps.active.get(callId)?.session;
    if (current) return current;
    const answered = new Promise<void>((resolve, reject) => {
      let waiters = this.answerWaiters.get(callId);
      if (!waiters) {
        waiters = new Set();
        this.answerWaiters.set(callId, waiters);
      }
      waiters.add({ resolve, reject });
    });
    const waiting = this.deps.decisions.get(callId);
    if (waiting) {
      // The accept path itself: its failures end the call, which rejects the wait below.
      waiting
        .accept()
        .catch((error: unknown) =>
          this.deps.logger.warn({ callId, err: error }, 'call flow could not answer the call'),
        );
    } else {
      // Being answered (an accept action, an outbound callee picking up): wait for it; over or
      // answered without a SIP leg: stop.
      const call = this.deps.calls.get(callId);
      if (!call || isFinal(call.status) || call.status === 'in_progress') {
        this.settleWaiters(callId, new FlowStopped(`call ${callId} has no answered SIP leg`));
      }
    }
    await answered;
    const session = this.deps.active.get(callId)?.session;
    if (!session) throw new FlowStopped(`call ${callId} ended while being answered`);
    return session;
  }

  ring(callId: string): boolean {
    const waiting = this.deps.decisions.get(callId);
    waiting?.ring();
    return waiting !== undefined;
  }

  hangup(callId: string, sipCode?: number): void {
    const active = this.deps.active.get(callId);
    if (active) {
      active.hangup();
      return;
    }
    const waiting = this.deps.decisions.get(callId);
    if (!waiting) {
      this.deps.logger.info({ callId }, 'hangup verb: the call is neither ringing nor answered');
      return;
    }
    if (sipCode === undefined) waiting.hangup();
    else waiting.reject(sipCode);
  }

  emit(callId: string, event: string, fields: Record<string, unknown>): void {
    this.deps.calls.appendEvent(callId, event, fields);
  }

  private onTransition(call: Call): void {
    if (call.status === 'in_progress') this.settleWaiters(call.id);
    if (!isFinal(call.status)) return;
    this.settleWaiters(call.id, new FlowStopped(`call ${call.id} ended`));
    this.runners.get(call.id)?.stop(`call ended (${call.endReason})`);
    this.runners.delete(call.id);
  }

  private settleWaiters(callId: string, error?: Error): void {
    const waiters = this.answerWaiters.get(callId);
    if (!waiters) return;
    this.answerWaiters.delete(callId);
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }
}
