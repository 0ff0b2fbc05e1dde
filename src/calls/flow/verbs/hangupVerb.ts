import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';

/** Ends the call: BYE once answered (api_hangup); while ringing a refusal, 480 or `sipCode`. */
export class HangupVerb implements FlowVerb {
  readonly command = 'hangup';

  constructor(private readonly spec: VerbSpec<'hangup'>) {}

  async run(context: FlowContext): Promise<void> {
    context.hangup(this.spec.sipCode);
  }
}
