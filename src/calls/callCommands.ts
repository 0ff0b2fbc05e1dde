import { CallCommandError, NotAnswerable } from './callErrors.js';
import type { CallRegistry } from './callRegistry.js';
import type { CallService } from './callService.js';
import type { Call } from './callTypes.js';
import type { CallFlows } from './flow/callFlows.js';
import type { FlowVerbSpec } from './flow/flowSchemas.js';
import type { CallTransfers } from './transfer/callTransfers.js';

export type DecisionAction =
  | { action: 'reject'; code: number }
  | { action: 'pre_accept' }
  | { action: 'accept' | 'connect'; maxDurationSeconds?: number | undefined }
  | { action: 'transfer'; to: string };

/** A PATCH body: hang up, or replace the call flow. */
export interface CallUpdate {
  status?: 'completed' | undefined;
  callFlow?: FlowVerbSpec[] | undefined;
}

/**
 * What a control plane can tell a call to do, shared by the REST API and the event channel so
 * both succeed and fail alike. Each command asks the call's live object (CallRegistry) what it
 * can do now. Visibility (which key may see which call) stays with the caller.
 */
export class CallCommands {
  constructor(
    private readonly calls: CallService,
    private readonly registry: CallRegistry,
    private readonly flows: CallFlows,
    /** REFER on the SIP leg (the transfer action); without it a transfer is refused 501. */
    private readonly transfers?: CallTransfers,
  ) {}

  /** Decides an inbound call that rings waiting for an action. */
  async decide(call: Call, decision: DecisionAction): Promise<Call> {
    if (decision.action === 'transfer') return this.transfer(call, decision.to);
    const waiting = this.registry.get(call.id)?.decision;
    if (!waiting) {
      throw new CallCommandError(
        'conflict',
        `call ${call.id} is ${call.status} and not waiting for a decision`,
      );
    }
    if (decision.action === 'reject') {
      waiting.reject(decision.code);
      return this.after(call.id);
    }
    try {
      if (decision.action === 'pre_accept') await waiting.preAccept();
      else await waiting.accept({ maxDurationSeconds: decision.maxDurationSeconds });
    } catch (error) {
      if (error instanceof NotAnswerable) throw new CallCommandError(error.kind, error.message);
      throw new CallCommandError('answer_failed', (error as Error).message);
    }
    return this.after(call.id);
  }

  /**
   * PATCH: a hangup, or a new call flow replacing the running one. A flow is checked whole
   * before anything runs (501 for verbs not in this build, 400 for refused files), and refused
   * on a call that ended or is neither ringing nor answered (409).
   */
  async update(call: Call, update: CallUpdate): Promise<Call> {
    if (!update.callFlow) return this.hangup(call);
    const current = this.current(call);
    this.flows.check(current, update.callFlow);
    this.flows.replace(current, update.callFlow);
    return this.after(call.id);
  }

  /** Ends a call: BYE for an answered one; a ringing inbound call is refused (480). */
  async hangup(call: Call): Promise<Call> {
    if (this.registry.get(call.id)?.hangup()) return this.after(call.id);
    throw new CallCommandError('conflict', `call ${call.id} is ${call.status} and cannot be hung up now`);
  }

  /**
   * A blind transfer of an answered call (REFER on its SIP leg): returns the call as it is, still
   * in progress; the outcome follows as calls.transfer.completed (and the call's end, transferred)
   * or calls.transfer.failed. 409 when it is not answered, has no SIP leg or one is pending.
   */
  async transfer(call: Call, to: string): Promise<Call> {
    if (!this.transfers) throw new CallCommandError('not_implemented', 'transfers are not in this build');
    // Its outcome is reported as events (and logged) by CallTransfers.
    this.transfers.transfer(this.current(call), to, 'api').catch(() => undefined);
    return this.after(call.id);
  }

  /** The call as this process carries it live; one that ended (or lives elsewhere) cannot be changed. */
  private current(call: Call): Call {
    const live = this.calls.get(call.id);
    if (live) return live;
    throw new CallCommandError(
      'conflict',
      call.endedAt
        ? `call ${call.id} already ended as ${call.status}`
        : `call ${call.id} is not carried here`,
    );
  }

  /** The call after a command: live here, or as it ended. */
  private async after(id: string): Promise<Call> {
    const call = await this.calls.find(id);
    if (!call) throw new CallCommandError('not_found', `no call ${id}`);
    return call;
  }
}
