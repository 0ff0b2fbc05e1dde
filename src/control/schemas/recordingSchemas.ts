import { z } from 'zod';
import { RECORDING_KINDS, RECORDING_STATES } from '../../store/recordingStore.js';
import { CALL_ID_PATTERN } from './callSchemas.js';

/** The media worker's recordingId: `rec_` and 16 hex digits. */
export const RECORDING_ID_PATTERN = /^rec_[0-9a-f]{16}$/;

const recordingId = z.string().regex(RECORDING_ID_PATTERN, 'must be rec_ followed by 16 hex digits');
const kind = z.enum(RECORDING_KINDS);

export const recordingIdParamsSchema = z.strictObject({ id: recordingId });

export const recordingSchema = z
  .object({
    id: z.string().regex(RECORDING_ID_PATTERN),
    callId: z.string().regex(CALL_ID_PATTERN),
    appId: z.string(),
    kind: kind.meta({
      description:
        'call: a whole call (autoRecordEnabled); voicemail: a voicemail message; flow: a record verb of a call flow.',
    }),
    format: z.enum(['mp4', 'ogg', 'webm']).meta({ description: 'Container: mp4 (AAC), ogg or webm (Opus).' }),
    state: z.enum(RECORDING_STATES).meta({
      description:
        'recording: still being written (no media yet); completed; failed: the encoder failed, the file may be partial; interrupted: the gateway or its media worker died while recording (the file is kept as it was left).',
    }),
    durationMs: z
      .int()
      .min(0)
      .nullable()
      .meta({ description: 'Audio recorded; null while recording, and when interrupted (not known).' }),
    bytes: z.int().min(0).nullable().meta({ description: 'Size of the file; null while recording.' }),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime().nullable(),
    mediaUrl: z.string().meta({ description: 'Where the file is served: GET it with the same key.' }),
  })
  .meta({ id: 'Recording' });

export const recordingListQuerySchema = z.strictObject({
  callId: z.string().regex(CALL_ID_PATTERN).optional().meta({ description: 'The recordings of one call.' }),
  kind: kind.optional(),
  appId: z
    .string()
    .regex(/^app_(test_)?[0-9A-Za-z]{27}$/)
    .optional()
    .meta({ description: 'Admin keys only: the recordings of one app.' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: recordingId
    .optional()
    .meta({ description: "Cursor: the previous page's nextCursor (its last recording's id)." }),
});

export const recordingListSchema = z
  .object({
    data: z.array(recordingSchema).meta({ description: 'Newest first.' }),
    hasMore: z.boolean(),
    nextCursor: z
      .string()
      .regex(RECORDING_ID_PATTERN)
      .nullable()
      .meta({ description: 'The cursor of the next page; null on the last page.' }),
  })
  .meta({ id: 'RecordingList' });
