import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';

/**
 * Blind transfer of the call (REFER on its SIP leg, calls/transfer/): a ringing call is answered
 * first. On success the call ends as `transferred` and nothing after this verb runs; a refused or
 * failed transfer (calls.transfer.failed) fails the verb (logged) and the flow goes on.
 */
export class TransferVerb implements FlowVerb {
  readonly command = 'transfer';

  constructor(private readonly spec: VerbSpec<'transfer'>) {}

  async run(context: FlowContext): Promise<void> {
    await context.answered();
    await context.transfer(this.spec.to);
  }
}
