import type { PlaybackSpec, SaySpec } from '../flowSchemas.js';
import type { FlowContext, PlayOptions } from '../flowTypes.js';

/** espeak-ng's voice when a say names neither voice nor locale. */
const DEFAULT_VOICE = 'en';

/** The decoded audio of a playback or say (also a gather's prompt), ready for the worker. */
export function promptAudio(context: FlowContext, spec: PlaybackSpec | SaySpec): Promise<string> {
  return context.wait(
    spec.command === 'playback'
      ? context.audio.forLocation(spec.url)
      : context.audio.forSpeech({ text: spec.text, voice: spec.voice ?? spec.locale ?? DEFAULT_VOICE }),
  );
}

/** How a playback or say plays: its target; a playback's loop and timeout. */
export function playOptions(spec: PlaybackSpec | SaySpec): PlayOptions {
  return spec.command === 'playback'
    ? { target: spec.target, loop: spec.loop, timeoutMs: spec.timeoutMs }
    : { target: spec.target, loop: false };
}

/**
 * Prepares the audio first (a ringing caller keeps hearing ringback meanwhile, not dead air), then
 * answers the call if it still rings, then plays.
 */
export async function playPrompt(
  context: FlowContext,
  spec: PlaybackSpec | SaySpec,
): Promise<'finished' | 'stopped'> {
  const file = await promptAudio(context, spec);
  const session = await context.answered();
  return context.play(session, file, playOptions(spec));
}
