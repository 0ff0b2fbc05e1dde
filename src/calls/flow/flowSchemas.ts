import { z } from 'zod';
import { E164 } from '../../config/sipSchema.js';
import { DTMF_DIGIT_PATTERN } from '../../media/dtmf/telephoneEvent.js';
import { transferTargetSchema } from '../transfer/transferTarget.js';

/**
 * The verbs of a call flow (`PATCH /v1/calls/{id}` `{"callFlow": [...]}`), one schema each, keyed
 * by `command`. The README's "Call flows" section lists them; keep the two together.
 */

const target = z
  .enum(['sip', 'room', 'both'])
  .default('sip')
  .meta({ description: 'who hears it: the caller (sip), the room, or both' });

/** http(s) URLs, and local files as an absolute path or a file: URL (checked against media.playback.fileDirs). */
function isAudioLocation(value: string): boolean {
  if (value.startsWith('/')) return true;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'file:';
  } catch {
    return false;
  }
}

export const playbackVerbSchema = z
  .strictObject({
    command: z.literal('playback'),
    url: z
      .string()
      .max(4096)
      .refine(isAudioLocation, 'an http(s) URL, or an absolute path or file: URL of a local file'),
    loop: z.boolean().default(false),
    /** Stops the playback after this long (a looping one included). */
    timeoutMs: z.int().min(1).max(86_400_000).optional(),
    target,
  })
  .meta({ id: 'PlaybackVerb' });

export const sayVerbSchema = z
  .strictObject({
    command: z.literal('say'),
    text: z.string().min(1).max(5000),
    /** An espeak-ng voice (`en-us`, `de`, `en+f3`); wins over locale. */
    voice: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_+-]{0,39}$/, 'an espeak-ng voice name such as en-us')
      .optional(),
    /** BCP 47 (`en-US`, `fr`): the espeak-ng voice of that language. */
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag such as en-US')
      .optional(),
    target,
  })
  .meta({ id: 'SayVerb' });

const verbs = [
  z.strictObject({ command: z.literal('answer') }).meta({ id: 'AnswerVerb' }),
  z
    .strictObject({ command: z.literal('ringing') })
    .meta({ id: 'RingingVerb', description: '180 Ringing to a ringing inbound call' }),
  z
    .strictObject({ command: z.literal('pause'), durationMs: z.int().min(1).max(3_600_000) })
    .meta({ id: 'PauseVerb' }),
  playbackVerbSchema,
  sayVerbSchema,
  z
    .strictObject({
      command: z.literal('gather'),
      maxNumKeys: z.int().min(1).max(64),
      /** Ends the input (not part of the digits). */
      endKey: z.string().regex(DTMF_DIGIT_PATTERN, 'one of 0-9, *, #, A-D').optional(),
      /** No digit for this long (after the prompt, and between digits) ends the input. */
      timeoutMs: z.int().min(100).max(600_000),
      /** Prompts again this many times when the caller entered nothing. */
      retries: z.int().min(0).max(10).default(0),
      prompt: z.discriminatedUnion('command', [playbackVerbSchema, sayVerbSchema]).optional(),
    })
    .meta({ id: 'GatherVerb' }),
  z
    .strictObject({
      command: z.literal('bridge'),
      to: z.string().regex(E164, 'an E.164 number such as +15550100'),
      from: z.string().regex(E164, 'an E.164 number such as +15550100').optional(),
      ringTimeoutSeconds: z.int().min(1).max(600).optional(),
      maxDurationSeconds: z.int().min(1).max(86_400).optional(),
    })
    .meta({ id: 'BridgeVerb' }),
  z
    .strictObject({
      command: z.literal('record'),
      /** The message ends (and the flow goes on) after this long. */
      maxLengthSeconds: z.int().min(1).max(3600).default(60),
      /** The caller ends the message with this key (not recorded as part of it). */
      finishOnKey: z.string().regex(DTMF_DIGIT_PATTERN, 'one of 0-9, *, #, A-D').optional(),
      /** A 1 kHz tone before the recording starts. */
      beep: z.boolean().default(true),
      /** caller: the caller alone (a message); both: the caller and what the caller hears. */
      tracks: z.enum(['caller', 'both']).default('caller'),
    })
    .meta({
      id: 'RecordVerb',
      description: "records the caller in the app's recordingFormat; ends with calls.recording.completed",
    }),
  z
    .strictObject({
      command: z.literal('hangup'),
      /** While ringing: the refusal (486/600 end as busy, others as rejected); default 480. */
      sipCode: z.int().min(400).max(699).optional(),
    })
    .meta({ id: 'HangupVerb' }),
  z.strictObject({ command: z.literal('transfer'), to: transferTargetSchema }).meta({
    id: 'TransferVerb',
    description:
      'blind transfer (REFER) to an E.164 number (at the app trunk) or a sip: URI; the call ends as transferred on success',
  }),
] as const;

export const VERB_NAMES = verbs.map((verb) => verb.shape.command.value);

export const flowVerbSchema = z.discriminatedUnion('command', [...verbs], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `unknown command: one of ${VERB_NAMES.join(', ')}` : undefined,
});

export const callFlowSchema = z.array(flowVerbSchema).min(1).max(100).meta({ id: 'CallFlow' });

export type FlowVerbSpec = z.output<typeof flowVerbSchema>;
export type PlaybackSpec = z.output<typeof playbackVerbSchema>;
export type SaySpec = z.output<typeof sayVerbSchema>;
export type VerbSpec<C extends FlowVerbSpec['command']> = Extract<FlowVerbSpec, { command: C }>;
