import type { PendingDecisions } from '../signalling/inbound/pendingDecisions.js';
import type { CallService } from './callService.js';
import type { Call } from './callTypes.js';

/** Why a command could not run; the API layers turn it into their error JSON and status. */
export class CallCommandError extends Error {
  override readonly name = 'CallCommandError';
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'not_implemented',
    message: string,
  ) {
    super(message);
  }
}

export type DecisionAction =
  | { action: 'reject'; code: number }
  | { action: 'pre_accept' | 'accept' | 'connect' };

/**
 * What a control plane can tell a call to do, shared by the REST API and the event channel so
 * both succeed and fail alike. Visibility (which key may see which call) stays with the caller.
 */
export class CallCommands {
  constructor(
    private readonly calls: CallService,
    private readonly decisions: PendingDecisions,
  ) {}

  /** Decides an inbound call that rings waiting for an action. */
  decide(call: Call, decision: DecisionAction): Call {
    const waiting = this.decisions.get(call.id);
    if (!waiting)
      throw new CallCommandError(
        'conflict',
        `call ${call.id} is ${call.status} and not waiting for a decision`,
      );
    if (decision.action !== 'reject') {
      throw new CallCommandError(
        'not_implemented',
        `${decision.action} answers the call, which needs the media plane; this build can only reject or hang up`,
      );
    }
    waiting.reject(decision.code);
    return this.current(call.id);
  }

  /** Ends a call: a ringing inbound call is refused (480) and recorded as failed with api_hangup. */
  hangup(call: Call): Call {
    const waiting = this.decisions.get(call.id);
    if (waiting) {
      waiting.hangup();
      return this.current(call.id);
    }
    if (call.endedAt)
      throw new CallCommandError('conflict', `call ${call.id} already ended as ${call.status}`);
    throw new CallCommandError(
      'not_implemented',
      `call ${call.id} is ${call.status}; hanging up answered calls needs the media plane`,
    );
  }

  private current(id: string): Call {
    const call = this.calls.get(id);
    if (!call) throw new CallCommandError('not_found', `no call ${id}`);
    return call;
  }
}
