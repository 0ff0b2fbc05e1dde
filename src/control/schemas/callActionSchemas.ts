import { z } from 'zod';
import { callFlowSchema } from '../../calls/flow/flowSchemas.js';
import { transferTargetSchema } from '../../calls/transfer/transferTarget.js';
import { MAX_CALL_SECONDS } from '../../config/schema.js';

/** This call's own limit instead of calls.maxDurationSeconds: it ends as max_duration then. */
const maxDurationSeconds = z.int().min(1).max(MAX_CALL_SECONDS).optional();

export const callActionSchema = z
  .discriminatedUnion('action', [
    z.strictObject({
      action: z.literal('reject'),
      /** The SIP final response the caller gets: 486 or 600 read as busy; default 603 Decline. */
      code: z.int().min(400).max(699).default(603),
    }),
    z.strictObject({ action: z.literal('pre_accept') }),
    z.strictObject({ action: z.literal('accept'), maxDurationSeconds }),
    z.strictObject({ action: z.literal('connect'), maxDurationSeconds }),
    z
      .strictObject({
        action: z.literal('transfer'),
        /** Blind transfer (REFER) of an answered call: an E.164 number (at the app's trunk) or a sip: URI. */
        to: transferTargetSchema,
      })
      .meta({ description: 'REFER to `to`; 202, the outcome follows as calls.transfer.* events' }),
  ])
  .meta({ id: 'CallAction' });

export type CallAction = z.output<typeof callActionSchema>;

/** PATCH body: exactly one of a hangup (`status: completed`) or a new call flow. */
export const callUpdateSchema = z
  .strictObject({
    status: z
      .literal('completed')
      .optional()
      .meta({ description: 'Hang up: BYE, or a refusal while ringing.' }),
    callFlow: callFlowSchema.optional().meta({
      description: 'Replaces the running call flow with these verbs, run in order on the SIP leg.',
    }),
  })
  .refine((body) => (body.status === undefined) !== (body.callFlow === undefined), {
    message: 'give either status or callFlow',
    path: ['status'],
  })
  .meta({
    id: 'CallUpdate',
    description: 'Exactly one of status (hang up) or callFlow (replace the flow).',
    // The refine above, for the document: one of the two, never both, never neither.
    oneOf: [{ required: ['status'] }, { required: ['callFlow'] }],
  });
