import { z } from 'zod';

/**
 * Every message on the control-plane WebSocket, both ways, as zod schemas. They are the single
 * source: the gateway validates what it receives with them, tests validate what it sends with
 * them, and the JSON Schema published at `GET /v1/events/schema` is generated from them.
 */

/** Event names, one per call transition or happening (DESIGN.md §4). */
export const CALL_EVENT_NAMES = [
  'calls.initiated',
  'calls.ringing',
  'calls.answered',
  'calls.voicemail',
  'calls.completed',
  'calls.failed',
  'calls.busy',
  'calls.no_answer',
  'calls.canceled',
  'calls.dtmf',
  'calls.gather',
  'calls.participant.joined',
  'calls.participant.left',
  'calls.recording.completed',
  'calls.recording.deleted',
  'calls.voicemail.received',
  'calls.transfer.requested',
  'calls.transfer.completed',
  'calls.transfer.failed',
] as const;
export type CallEventName = (typeof CALL_EVENT_NAMES)[number];

/** Routing changes made by the routing API (/v1/sip/…): about no call; `data.sip` names what changed. */
export const SIP_EVENT_NAMES = [
  'sip.trunk.created',
  'sip.trunk.updated',
  'sip.trunk.deleted',
  'sip.number.created',
  'sip.number.deleted',
  'sip.app.updated',
] as const;
export type SipEventName = (typeof SIP_EVENT_NAMES)[number];

/** Actions a command may ask for: the REST call actions, a hangup, and a PATCH body (`update`). */
export const COMMAND_ACTIONS = [
  'hangup',
  'update',
  'pre_accept',
  'accept',
  'reject',
  'connect',
  'transfer',
] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

const errorDetailSchema = z.object({ field: z.string(), message: z.string() });

/** The REST API's error object (`ApiError.toBody().error`), reused so both interfaces fail alike. */
export const channelErrorSchema = z
  .object({
    code: z.string().min(1),
    message: z.string(),
    details: z.array(errorDetailSchema).optional(),
  })
  .meta({ id: 'ChannelError' });
export type ChannelError = z.infer<typeof channelErrorSchema>;

/**
 * `data.call` is the Call object as the REST API returns it; only `id` is fixed here, since the
 * call layer owns the rest. Events add their own fields beside `call` (a digit, a participant).
 */
export const eventDataSchema = z
  .looseObject({
    call: z.looseObject({ id: z.string().min(1) }),
  })
  .meta({ id: 'EventData' });
export type EventData = z.infer<typeof eventDataSchema>;

/**
 * A routing event's data: what changed, never a secret. `trunk` for sip.trunk.*, `number` and
 * `appId` for sip.number.*, `appId` and `outboundTrunk` (null: removed) for sip.app.updated.
 */
export const sipEventDataSchema = z
  .strictObject({
    sip: z.strictObject({
      trunk: z.string().min(1).optional(),
      number: z.string().min(1).optional(),
      appId: z.string().min(1).optional(),
      outboundTrunk: z.string().min(1).nullable().optional(),
    }),
  })
  .meta({ id: 'SipEventData' });
export type SipEventData = z.infer<typeof sipEventDataSchema>;

const seqSchema = z.int().min(1).meta({ description: 'delivery order, monotonic per gateway' });

export const helloMessageSchema = z
  .strictObject({
    type: z.literal('hello'),
    gatewayId: z.string().regex(/^gw_[0-9A-Za-z]{27}$/),
    version: z.string(),
    lastAckedSeq: z
      .int()
      .min(0)
      .meta({ description: 'the highest seq this gateway knows was acked; 0: none' }),
  })
  .meta({ id: 'HelloMessage', description: 'gateway → control plane, first on every connection' });

export const eventMessageSchema = z
  .strictObject({
    type: z.literal('event'),
    event: z.enum([...CALL_EVENT_NAMES, ...SIP_EVENT_NAMES]),
    eventId: z
      .string()
      .regex(/^evt_[0-9A-Za-z]{27}$/)
      .meta({ description: 'stable across resends: the key to deduplicate on' }),
    seq: seqSchema,
    timestamp: z.iso.datetime(),
    data: z.union([eventDataSchema, sipEventDataSchema]).meta({
      description: 'calls.*: {call, …}; sip.*: {sip: {trunk | number, appId | outboundTrunk}}',
    }),
  })
  .meta({ id: 'EventMessage', description: 'gateway → control plane; resent until acked' });

export const resultMessageSchema = z
  .discriminatedUnion('ok', [
    z.strictObject({
      type: z.literal('result'),
      id: z.string(),
      ok: z.literal(true),
      result: z.unknown().optional(),
    }),
    z.strictObject({
      type: z.literal('result'),
      id: z.string(),
      ok: z.literal(false),
      error: channelErrorSchema,
    }),
  ])
  .meta({ id: 'ResultMessage', description: "gateway → control plane: a command's outcome, under its id" });

export const errorMessageSchema = z
  .strictObject({
    type: z.literal('error'),
    /** The offending message's id, when it had a readable one. */
    id: z.string().optional(),
    error: channelErrorSchema,
  })
  .meta({
    id: 'ErrorMessage',
    description: 'gateway → control plane: a message the gateway could not accept; nothing changed',
  });

export const ackMessageSchema = z
  .strictObject({
    type: z.literal('ack'),
    seq: seqSchema.meta({ description: 'cumulative: every event up to and including seq is acked' }),
  })
  .meta({ id: 'AckMessage', description: 'control plane → gateway' });

export const commandMessageSchema = z
  .looseObject({
    type: z.literal('command'),
    id: z.string().min(1).max(200),
    callId: z.string().min(1).max(200),
    action: z.enum(COMMAND_ACTIONS),
  })
  .meta({
    id: 'CommandMessage',
    description:
      "control plane → gateway: the action's own fields sit beside action, as in the REST body (update: status, callFlow)",
  });

export const gatewayMessageSchema = z
  .discriminatedUnion('type', [
    helloMessageSchema,
    eventMessageSchema,
    resultMessageSchema,
    errorMessageSchema,
  ])
  .meta({ id: 'GatewayMessage', description: 'anything the gateway sends' });

export const controlPlaneMessageSchema = z
  .discriminatedUnion('type', [ackMessageSchema, commandMessageSchema])
  .meta({ id: 'ControlPlaneMessage', description: 'anything the control plane may send' });

export type HelloMessage = z.infer<typeof helloMessageSchema>;
export type EventMessage = z.infer<typeof eventMessageSchema>;
export type ResultMessage = z.infer<typeof resultMessageSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
export type AckMessage = z.infer<typeof ackMessageSchema>;
export type CommandMessage = z.infer<typeof commandMessageSchema>;
export type GatewayMessage = z.infer<typeof gatewayMessageSchema>;
export type ControlPlaneMessage = z.infer<typeof controlPlaneMessageSchema>;

/** Message types only the gateway sends: a control plane sending one is refused, not ignored. */
export const GATEWAY_ONLY_TYPES: readonly string[] = ['hello', 'event', 'result', 'error'];
