import type { PendingDecisions } from '../signalling/inbound/pendingDecisions.js';
import { NotAnswerable } from '../signalling/inbound/ringingCall.js';
import type { ActiveCalls } from './activeCalls.js';
import type { CallService } from './callService.js';
import type { Call } from './callTypes.js';
import type { CallFlows } from './flow/callFlows.js';
import type { FlowVerbSpec } from './flow/flowSchemas.js';

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

export type DecisionAction =
  | { action: 'reject'; code: number }
  | { action: 'pre_accept' }
  | { action: 'accept' | 'connect'; maxDurationSeconds?: number | undefined };

/** A PATCH body: hang up, or replace the call flow. */
export interface CallUpdate {
  status?: 'completed' | undefined;
  callFlow?: FlowVerbSpec[] | undefined;
}

/**
 * What a control plane can tell a call to do, shared by the REST API and the event channel so
 * both succeed and fail alike. Visibility (which key may see which call) stays with the caller.
 */
export class CallCommands {
  constructor(
    private readonly calls: CallService,
    private readonly decisions: PendingDecisions,
    private readonly active: ActiveCalls,
    /** Absent where the gateway runs no media plane: flows are refused with 501. */
    private readonly flows?: CallFlows,
  ) {}

  /** Decides an inbound call that rings waiting for an action. */
  async decide(call: Call, decision: DecisionAction): Promise<Call> {
    const waiting = this.decisions.get(call.id);
    if (!waiting) {
      throw new CallCommandError(
        'conflict',
        `call ${call.id} is ${call.status} and not waiting for a decision`,
      );
    }
    if (decision.action === 'reject') {
      waiting.reject(decision.code);
      return this.current(call.id);
    }
    try {
      if (decision.action === 'pre_accept') await waiting.preAccept();
      else await waiting.accept({ maxDurationSeconds: decision.maxDurationSeconds });
    } catch (error) {
      if (error instanceof NotAnswerable) throw new CallCommandError(error.kind, error.message);
      throw new CallCommandError('answer_failed', (error as Error).message);
    }
    return this.current(call.id);
  }

  /**
   * PATCH: a hangup, or a new call flow replacing the running one. A flow is checked whole
   * before anything runs (501 for verbs not in this build, 400 for refused files), and refused
   * on a call that ended or is neither ringing inbound nor answered (409).
   */
  update(call: Call, update: CallUpdate): Call {
    if (!update.callFlow) return this.hangup(call);
    if (!this.flows) {
      throw new CallCommandError(
        'not_implemented',
        'call flows need the media plane; this build can only hang up',
      );
    }
    const current = this.current(call.id);
    this.flows.check(current, update.callFlow);
    this.flows.replace(current, update.callFlow);
    return this.current(call.id);
  }

  /** Ends a call: BYE for an answered one; a ringing inbound call is refused (480). */
  hangup(call: Call): Call {
    const active = this.active.get(call.id);
    if (active) {
      active.hangup();
      return this.current(call.id);
    }
    const waiting = this.decisions.get(call.id);
    if (waiting) {
      waiting.hangup();
      return this.current(call.id);
    }
    throw new CallCommandError('conflict', `call ${call.id} is ${call.status} and cannot be hung up now`);
  }

  private current(id: string): Call {
    const call = this.calls.get(id);
    if (!call) throw new CallCommandError('not_found', `no call ${id}`);
    return call;
  }
}
