import { z } from 'zod';
import { END_REASONS, FINAL_STATUSES, LIVE_STATUSES } from '../../calls/callTypes.js';

export const CALL_ID_PATTERN = /^call_(test_)?[0-9A-Za-z]{27}$/;

const channel = z.enum(['pstn', 'whatsapp', 'webrtc']);
const status = z.enum([...LIVE_STATUSES, ...FINAL_STATUSES]);

export const callIdParamsSchema = z.strictObject({
  id: z.string().regex(CALL_ID_PATTERN, 'must be call_ or call_test_ followed by 27 letters or digits'),
});

export const callSchema = z
  .object({
    id: z.string().regex(CALL_ID_PATTERN),
    appId: z.string(),
    direction: z.enum(['inbound', 'outbound']),
    status,
    fromAddress: z.string(),
    toAddress: z.string(),
    fromChannel: channel,
    toChannel: channel,
    duration: z
      .int()
      .min(0)
      .meta({ description: 'Whole seconds from answer to end, rounded up; 0 if never answered.' }),
    endReason: z.enum(END_REASONS).nullable(),
    sipStatus: z
      .int()
      .nullable()
      .meta({ description: 'SIP final response code that ended an unanswered call.' }),
    metadata: z.record(z.string(), z.unknown()),
    livekitRoomName: z.string().nullable(),
    startedAt: z.iso.datetime(),
    answeredAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Call' });

export const callListQuerySchema = z.strictObject({
  status: status.optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
  appId: z
    .string()
    .regex(/^app_(test_)?[0-9A-Za-z]{27}$/)
    .optional()
    .meta({ description: 'Admin keys only: the calls of one app.' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  startingAfter: z
    .string()
    .regex(CALL_ID_PATTERN)
    .optional()
    .meta({ description: 'Cursor: the last call id of the previous page.' }),
});

export const callListSchema = z
  .object({
    data: z.array(callSchema),
    hasMore: z.boolean(),
  })
  .meta({ id: 'CallList' });
