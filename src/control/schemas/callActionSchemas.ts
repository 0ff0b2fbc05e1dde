import { z } from 'zod';

export const callActionSchema = z
  .discriminatedUnion('action', [
    z.strictObject({
      action: z.literal('reject'),
      /** The SIP final response the caller gets: 486 or 600 read as busy; default 603 Decline. */
      code: z.int().min(400).max(699).default(603),
    }),
    z.strictObject({ action: z.literal('pre_accept') }),
    z.strictObject({ action: z.literal('accept') }),
    z.strictObject({ action: z.literal('connect') }),
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
    callFlow: z
      .array(z.looseObject({ command: z.string() }))
      .min(1)
      .optional(),
  })
  .refine((body) => (body.status === undefined) !== (body.callFlow === undefined), {
    message: 'give either status or callFlow',
    path: ['status'],
  })
  .meta({ id: 'CallUpdate' });
