import { z } from 'zod';

/**
 * One call event of a Cloud API `calls` webhook, with the business number it came for: `connect`
 * (the caller's SDP offer, or the callee's answer to a call the business placed), `terminate`
 * (how it ended), or `status` (RINGING, ACCEPTED, REJECTED of a call the business placed).
 */
export interface GraphCallEvent {
  phoneNumberId: string;
  wacid: string;
  event: 'connect' | 'terminate' | 'status';
  /** The caller's WhatsApp id (a phone number's digits, or a BSUID). */
  from: string | undefined;
  to: string | undefined;
  direction: string | undefined;
  /** The SDP the event carries: the caller's offer (user-initiated) or an answer (ours was the offer). */
  session: { type: 'offer' | 'answer'; sdp: string } | undefined;
  /** terminate: Meta's own count of the call's seconds, and its final status. */
  durationSeconds: number | undefined;
  status: string | undefined;
}

/** Fields Meta may add are let through: only what is read is checked. */
const callSchema = z.looseObject({
  id: z.string().min(1).max(256),
  event: z.string(),
  from: z.string().max(64).optional(),
  to: z.string().max(64).optional(),
  direction: z.string().max(64).optional(),
  status: z.string().max(64).optional(),
  duration: z.union([z.number(), z.string()]).optional(),
  session: z
    .looseObject({ sdp_type: z.enum(['offer', 'answer']), sdp: z.string().min(1).max(65_536) })
    .optional(),
});

/** A status of a call the business placed (`statuses[]` entries of type call). */
const statusSchema = z.looseObject({
  id: z.string().min(1).max(256),
  type: z.string().optional(),
  status: z.string().max(64),
  recipient_id: z.string().max(64).optional(),
});

const webhookSchema = z.looseObject({
  object: z.string().optional(),
  entry: z.array(
    z.looseObject({
      changes: z.array(
        z.looseObject({
          field: z.string(),
          value: z.looseObject({
            metadata: z.looseObject({ phone_number_id: z.string().min(1) }).optional(),
            calls: z.array(z.unknown()).optional(),
            statuses: z.array(z.unknown()).optional(),
          }),
        }),
      ),
    }),
  ),
});

/** Why a webhook body was not one the gateway can act on (answered 400: Meta's retry won't help). */
export class WebhookPayloadError extends Error {
  override readonly name = 'WebhookPayloadError';
}

/**
 * The call events of a webhook body (already checked as signed by Meta). Changes of other fields
 * (messages, statuses of messages) carry no call and give nothing; a call entry that is not one
 * is skipped with the reason, so one odd entry does not lose the others.
 */
export function graphCallEvents(body: string): { events: GraphCallEvent[]; skipped: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new WebhookPayloadError('the webhook body is not JSON');
  }
  const parsed = webhookSchema.safeParse(json);
  if (!parsed.success) throw new WebhookPayloadError('the webhook body has no entry[].changes[]');
  const events: GraphCallEvent[] = [];
  const skipped: string[] = [];
  for (const entry of parsed.data.entry) {
    for (const change of entry.changes) {
      if (change.field !== 'calls' || (!change.value.calls && !change.value.statuses)) continue;
      const phoneNumberId = change.value.metadata?.phone_number_id;
      if (!phoneNumberId) {
        skipped.push('a calls change without metadata.phone_number_id');
        continue;
      }
      for (const raw of change.value.statuses ?? []) {
        const status = statusSchema.safeParse(raw);
        if (!status.success || (status.data.type !== undefined && status.data.type !== 'call')) continue;
        events.push({
          phoneNumberId,
          wacid: status.data.id,
          event: 'status',
          from: undefined,
          to: status.data.recipient_id,
          direction: 'BUSINESS_INITIATED',
          status: status.data.status.toUpperCase(),
          session: undefined,
          durationSeconds: undefined,
        });
      }
      for (const raw of change.value.calls ?? []) {
        const call = callSchema.safeParse(raw);
        if (!call.success) {
          skipped.push(`a call entry that is not one: ${call.error.issues[0]?.message ?? 'invalid'}`);
          continue;
        }
        const { id, event, from, to, direction, status, duration, session } = call.data;
        if (event !== 'connect' && event !== 'terminate') {
          skipped.push(`call event ${JSON.stringify(event.slice(0, 32))} is not handled`);
          continue;
        }
        const seconds = duration === undefined ? undefined : Number(duration);
        events.push({
          phoneNumberId,
          wacid: id,
          event,
          from,
          to,
          direction,
          status,
          session: session ? { type: session.sdp_type, sdp: session.sdp } : undefined,
          durationSeconds: seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined,
        });
      }
    }
  }
  return { events, skipped };
}
