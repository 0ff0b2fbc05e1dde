import type { FlowContext, FlowVerb } from '../flowTypes.js';

/** Answers a ringing inbound call into its room, as an accept action does; nothing if answered. */
export class AnswerVerb implements FlowVerb {
  readonly command = 'answer';

  async run(context: FlowContext): Promise<void> {
    await context.answered();
  }
}
