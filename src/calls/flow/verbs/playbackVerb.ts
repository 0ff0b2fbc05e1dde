import type { PlaybackSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';
import { playPrompt } from './promptAudio.js';

/** Plays audio from an http(s) URL or an allowed local file, to its end (or timeoutMs; loop repeats it). */
export class PlaybackVerb implements FlowVerb {
  readonly command = 'playback';

  constructor(private readonly spec: PlaybackSpec) {}

  async run(context: FlowContext): Promise<void> {
    await playPrompt(context, this.spec);
  }
}
