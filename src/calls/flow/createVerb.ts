import type { FlowVerbSpec } from './flowSchemas.js';
import type { FlowVerb } from './flowTypes.js';
import { AnswerVerb } from './verbs/answerVerb.js';
import { BridgeVerb } from './verbs/bridgeVerb.js';
import { GatherVerb } from './verbs/gatherVerb.js';
import { HangupVerb } from './verbs/hangupVerb.js';
import { PauseVerb } from './verbs/pauseVerb.js';
import { PlaybackVerb } from './verbs/playbackVerb.js';
import { RecordVerb } from './verbs/recordVerb.js';
import { RingingVerb } from './verbs/ringingVerb.js';
import { SayVerb } from './verbs/sayVerb.js';
import { TransferVerb } from './verbs/transferVerb.js';

/** Verbs this build cannot run; a flow naming one is refused with 501 before anything runs. */
export const NOT_IMPLEMENTED: Partial<Record<FlowVerbSpec['command'], string>> = {};

/** The verb object of a validated spec. */
export function createVerb(spec: FlowVerbSpec): FlowVerb {
  switch (spec.command) {
    case 'answer':
      return new AnswerVerb();
    case 'ringing':
      return new RingingVerb();
    case 'pause':
      return new PauseVerb(spec);
    case 'playback':
      return new PlaybackVerb(spec);
    case 'say':
      return new SayVerb(spec);
    case 'gather':
      return new GatherVerb(spec);
    case 'hangup':
      return new HangupVerb(spec);
    case 'bridge':
      return new BridgeVerb(spec);
    case 'record':
      return new RecordVerb(spec);
    case 'transfer':
      return new TransferVerb(spec);
  }
}
