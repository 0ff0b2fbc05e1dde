import type { Logger } from 'pino';
import { E164 } from '../../config/sipSchema.js';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { RecordingFormat } from '../../recording/recordingTypes.js';
import type { PendingDecisions } from '../../signalling/inbound/pendingDecisions.js';
import type { ActiveCalls } from '../activeCalls.js';
import { CallCommandError } from '../callCommands.js';
import type { CallService } from '../callService.js';
import { type Call, isFinal } from '../callTypes.js';
import type { OutboundDialer } from '../outboundDialer.js';
import type { AudioPrompts } from './audio/audioPrompts.js';
import { createVerb, NOT_IMPLEMENTED } from './createVerb.js';
import { type CallLeg, FlowRunner } from './flowRunner.js';
import type { FlowVerbSpec, VerbSpec } from './flowSchemas.js';
import { FlowStopped } from './flowTypes.js';

export interface CallFlowsDeps {
  calls: CallService;
  decisions: PendingDecisions;
  active: ActiveCalls;
  audio: AudioPrompts;
  /** Places a bridge verb's leg; absent where no media plane runs. */
  dialer?: OutboundDialer | undefined;
  /** sip.ringTimeoutSeconds: how long a bridge rings unless it says. */
  ringTimeoutSeconds: number;
  /** The app's recordingFormat, for record verbs (default ogg). */
  recordingFormat?: (appId: string) => RecordingFormat;
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
  /** Numbers the room identities of bridge legs (`sip_<call id>_bridge_<n>`). */
  private bridges = 0;

  constructor(private readonly deps: CallFlowsDeps) {
    deps.calls.on('transition', (call) => this.onTransition(call));
  }

  /**
   * Refuses, before anything runs, a flow this build cannot run (501) or naming a local
   * file outside media.playback.fileDirs, or bridging for an app with no outbound trunk (400,
   * naming the field).
   */
  check(call: Call, flow: readonly FlowVerbSpec[]): void {
    for (const [index, spec] of flow.entries()) {
      const missing = NOT_IMPLEMENTED[spec.command];
      if (missing) throw new CallCommandError('not_implemented', `callFlow[${index}]: ${missing}`);
    }
    const problems: { field: string; message: string }[] = [];
    for (const [index, spec] of flow.entries()) {
      if (spec.command === 'bridge' && !this.deps.dialer?.canDial(call.appId)) {
        problems.push({
          field: `callFlow[${index}].to`,
          message: `app ${call.appId} has no outbound trunk to dial through (sip.apps)`,
        });
      }
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
      throw new CallCommandError('invalid_request', 'the flow cannot run as given', problems);
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
      recordingFormat: this.deps.recordingFormat?.(call.appId) ?? 'ogg',
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

  /**
   * Dials `spec.to` through the call's app trunk into the call's room (caller id: `spec.from`, else
   * the caller's number when it is E.164, else the number called), then waits while the leg talks.
   * Resolves once it has ended: the callee's BYE, its media ending, maxDurationSeconds, or the flow
   * stopping (replaced, call ended), in which cases the callee gets a BYE. A dial that does not
   * connect (busy, no answer, declined…) rejects with the dialer's DialFailed.
   */
  async bridge(callId: string, spec: VerbSpec<'bridge'>, signal: AbortSignal): Promise<void> {
    const call = this.deps.calls.get(callId);
    const dialer = this.deps.dialer;
    if (!dialer || !call?.livekitRoomName) throw new FlowStopped(`call ${callId} has no room to bridge into`);
    const leg = await dialer.dial({
      appId: call.appId,
      from: spec.from ?? (E164.test(call.fromAddress) ? call.fromAddress : call.toAddress),
      to: spec.to,
      roomName: call.livekitRoomName,
      identity: `sip_${callId}_bridge_${++this.bridges}`,
      callId,
      ringTimeoutMs: (spec.ringTimeoutSeconds ?? this.deps.ringTimeoutSeconds) * 1000,
      signal,
    });
    const log = this.deps.logger.child({ callId, bridgeTo: spec.to, sipCallId: leg.sipCallId });
    log.info('bridge leg answered');
    leg.dialog.on('modify', (req, res) => {
      leg.session.answerOffer(req.body).then(
        ({ localSdp }) => res.send(200, undefined, { body: localSdp }),
        () => res.send(488),
      );
    });
    const ended = await new Promise<string>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (why: string): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(why);
      };
      const onAbort = (): void => finish('flow stopped');
      if (spec.maxDurationSeconds !== undefined) {
        timer = setTimeout(() => finish('max duration'), spec.maxDurationSeconds * 1000);
      }
      signal.addEventListener('abort', onAbort, { once: true });
      leg.dialog.on('destroy', () => finish('callee hung up'));
      leg.session.once('closed', () => finish('media ended'));
      if (signal.aborted) finish('flow stopped');
      else if (leg.dialog.connected === false) finish('callee hung up');
    });
    log.info({ why: ended }, 'bridge leg ended');
    if (ended !== 'callee hung up') {
      void Promise.resolve(leg.dialog.destroy()).catch((error: unknown) =>
        log.warn({ err: error }, 'BYE to the bridge leg failed'),
      );
    }
    if (!leg.session.closed) void leg.session.close('normal');
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
