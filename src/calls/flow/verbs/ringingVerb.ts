import type { FlowContext, FlowVerb } from '../flowTypes.js';

/** 180 Ringing to a ringing inbound call; nothing once it is answered. */
export class RingingVerb implements FlowVerb {
  readonly command = 'ringing';

  async run(context: FlowContext): Promise<void> {
    if (!context.ring()) context.logger.debug({ callId: context.callId }, 'ringing: the call is not ringing');
  }
}
