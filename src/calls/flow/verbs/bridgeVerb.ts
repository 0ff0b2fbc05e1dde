import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';

/**
 * Dials another number through the app's trunk into the call's room, so the caller and the callee
 * talk (with whoever else is in the room), and waits while they do. It ends when the callee hangs
 * up, at maxDurationSeconds, when the call ends or the flow is replaced (the callee gets a BYE);
 * then the flow goes on. A callee that is busy or does not answer fails the verb (logged).
 */
export class BridgeVerb implements FlowVerb {
  readonly command = 'bridge';

  constructor(private readonly spec: VerbSpec<'bridge'>) {}

  async run(context: FlowContext): Promise<void> {
    await context.answered();
    await context.bridge(this.spec);
  }
}
