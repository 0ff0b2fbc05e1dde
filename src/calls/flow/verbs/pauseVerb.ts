import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';

/** Waits before the next verb (a ringing call keeps ringing; an answered one keeps its audio). */
export class PauseVerb implements FlowVerb {
  readonly command = 'pause';

  constructor(private readonly spec: VerbSpec<'pause'>) {}

  run(context: FlowContext): Promise<void> {
    return context.sleep(this.spec.durationMs);
  }
}
