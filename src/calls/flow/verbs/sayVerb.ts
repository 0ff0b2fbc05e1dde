import type { SaySpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';
import { playPrompt } from './promptAudio.js';

/** Speaks text (espeak-ng, in `voice` or the voice of `locale`) to its end. */
export class SayVerb implements FlowVerb {
  readonly command = 'say';

  constructor(private readonly spec: SaySpec) {}

  async run(context: FlowContext): Promise<void> {
    await playPrompt(context, this.spec);
  }
}
