import type { Logger } from 'pino';
import { E164 } from '../../config/sipSchema.js';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { CallSettingsSource } from '../autoRecording.js';
import { CallCommandError, FlowStopped } from '../callErrors.js';
import type { CallRegistry } from '../callRegistry.js';
import type { CallService } from '../callService.js';
import { type Call, isFinal } from '../callTypes.js';
import { BridgedLeg, type LegEnd } from '../legs/bridgedLeg.js';
import type { OutboundDialer } from '../outbound/outboundDialer.js';
import type { CallTransfers } from '../transfer/callTransfers.js';
import type { AudioPrompts } from './audio/audioPrompts.js';
import { createVerb, NOT_IMPLEMENTED } from './createVerb.js';
import { type CallLeg, FlowRunner } from './flowRunner.js';
import type { FlowVerbSpec, VerbSpec } from './flowSchemas.js';

export interface CallFlowsDeps {
  calls: CallService;
  registry: CallRegistry;
  audio: AudioPrompts;
  /** Places a bridge verb's leg. */
  dialer: OutboundDialer;
  /** sip.ringTimeoutSeconds: how long a bridge rings unless it says. */
  ringTimeoutSeconds: number;
  /** The app's settings: its recordingFormat, for record verbs. */
  callingConfigs: CallSettingsSource;
  logger: Logger;
  /** REFER on the call's SIP leg, for transfer verbs (501 without it). */
  transfers?: CallTransfers | undefined;
}

/**
 * Runs call flows: at most one per call, kept by the call itself (LiveCall.flow). A new flow
 * replaces the running one (which stops at once, playback included); a call's end stops its
 * flow, whatever ended it. Flows act on the call through the same live object as the API: its
 * decision (answer, 180, refuse), its media session, its hangup.
 */
export class CallFlows implements CallLeg {
  /** Numbers the room identities of bridge legs (`sip_<call id>_bridge_<n>`). */
  private bridges = 0;

  constructor(private readonly deps: CallFlowsDeps) {}

  /**
   * Refuses, before anything runs, a flow this build cannot run (501) or naming a local
   * file outside media.playback.fileDirs, or bridging for an app with no outbound trunk (400,
   * naming the field).
   */
  check(call: Call, flow: readonly FlowVerbSpec[]): void {
    for (const [index, spec] of flow.entries()) {
      const missing =
        NOT_IMPLEMENTED[spec.command] ??
        (spec.command === 'transfer' && !this.deps.transfers ? 'transfers are not in this build' : undefined);
      if (missing) throw new CallCommandError('not_implemented', `callFlow[${index}]: ${missing}`);
    }
    const problems: { field: string; message: string }[] = [];
    for (const [index, spec] of flow.entries()) {
      if (
        (spec.command === 'bridge' || (spec.command === 'transfer' && E164.test(spec.to))) &&
        !this.deps.dialer?.canDial(call.appId)
      ) {
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
    // Ringing (waiting for a decision, or being dialled: the flow waits for the answer), or
    // answered, or being answered by the flow this one replaces (it waits for that answer); not
    // a call in the middle of an accept action.
    const live = this.deps.registry.get(call.id);
    if (!live || live.phase === 'ending' || (live.phase === 'answering' && !live.flow)) {
      throw new CallCommandError(
        'conflict',
        `call ${call.id} is ${call.status} and being answered; send the flow again once it is answered`,
      );
    }
    const runner = new FlowRunner(call.id, flow.map(createVerb), {
      leg: this,
      audio: this.deps.audio,
      logger: this.deps.logger,
      recordingFormat: this.deps.callingConfigs.settingsFor(call.appId).recordingFormat,
      recordings: this.deps.calls.recordings,
    });
    live.runFlow(runner);
    this.deps.logger.info({ callId: call.id, verbs: flow.map((spec) => spec.command) }, 'call flow started');
    void runner.run().finally(() => live.flowDone(runner));
  }

  answered(callId: string): Promise<MediaSession> {
    const live = this.deps.registry.get(callId);
    if (!live) return Promise.reject(new FlowStopped(`call ${callId} ended`));
    return live.whenAnswered();
  }

  ring(callId: string): boolean {
    const waiting = this.deps.registry.get(callId)?.decision;
    waiting?.ring();
    return waiting !== undefined;
  }

  hangup(callId: string, sipCode?: number): void {
    if (!this.deps.registry.get(callId)?.hangup(sipCode)) {
      this.deps.logger.info({ callId }, 'hangup verb: the call is neither ringing nor answered');
    }
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
    if (!call?.livekitRoomName) throw new FlowStopped(`call ${callId} has no room to bridge into`);
    const dialed = await this.deps.dialer.dial({
      appId: call.appId,
      from: spec.from ?? (E164.test(call.fromAddress) ? call.fromAddress : call.toAddress),
      to: spec.to,
      roomName: call.livekitRoomName,
      identity: `sip_${callId}_bridge_${++this.bridges}`,
      callId,
      ringTimeoutMs: (spec.ringTimeoutSeconds ?? this.deps.ringTimeoutSeconds) * 1000,
      signal,
    });
    const log = this.deps.logger.child({ callId, bridgeTo: spec.to, sipCallId: dialed.sipCallId });
    log.info('bridge leg answered');
    let bridged: BridgedLeg | undefined;
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
      bridged = new BridgedLeg(dialed.leg, dialed.session, log, (end: LegEnd) =>
        finish(end.by === 'far_end' ? 'callee hung up' : 'media ended'),
      );
      if (signal.aborted) finish('flow stopped');
    });
    log.info({ why: ended }, 'bridge leg ended');
    await bridged?.hangUp();
  }

  /**
   * A transfer verb: REFER on the call's leg (CallTransfers). A failure rejects (the verb fails,
   * the flow goes on); on success the call ends as transferred, and this waits for that (the flow
   * stops then).
   */
  async transfer(callId: string, to: string, signal: AbortSignal): Promise<void> {
    const call = this.deps.calls.get(callId);
    if (!call || !this.deps.transfers) throw new FlowStopped(`call ${callId} ended`);
    const outcome = await this.deps.transfers.transfer(call, to, 'flow');
    if (outcome.result === 'failed') {
      throw new Error(
        `transfer to ${to} failed (${outcome.stage}, ${outcome.status ?? 'no status'}): ${outcome.reason}`,
      );
    }
    if (signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  emit(callId: string, event: string, fields: Record<string, unknown>): void {
    this.deps.calls.appendEvent(callId, event, fields);
  }
}
