import { z } from 'zod';
import { CALL_LOG_STATUSES } from '../../calls/callLog.js';
import { END_REASONS, FINAL_STATUSES, LIVE_STATUSES } from '../../calls/callTypes.js';

export const CALL_ID_PATTERN = /^call_(test_)?[0-9A-Za-z]{27}$/;

const channel = z.enum(['pstn', 'whatsapp', 'webrtc']);
const status = z.enum([...LIVE_STATUSES, ...FINAL_STATUSES]);

export const callIdParamsSchema = z.strictObject({
  id: z.string().regex(CALL_ID_PATTERN, 'must be call_ or call_test_ followed by 27 letters or digits'),
});

export const callQualitySchema = z
  .object({
    packetLossRatio: z
      .number()
      .min(0)
      .max(1)
      .meta({
        description:
          'RTP packets lost / packets expected (from their sequence numbers, RFC 3550 A.3), over the ' +
          'call so far; over the whole call once it ended.',
      }),
    packetsReceived: z.int().min(0).meta({ description: 'RTP packets received on the leg.' }),
    packetsLost: z.int().min(0).meta({ description: 'RTP packets expected but never received.' }),
    jitterMs: z
      .number()
      .min(0)
      .meta({ description: 'RFC 3550 interarrival jitter, latest estimate (at the end, once ended).' }),
    roundTripMs: z
      .number()
      .min(0)
      .nullable()
      .meta({ description: "From the far end's RTCP reports; null when it sends none." }),
    mos: z
      .number()
      .min(1)
      .max(5)
      .nullable()
      .meta({ description: 'E-model (ITU-T G.107) MOS estimate; null before enough packets.' }),
    updatedAt: z.iso.datetime().meta({ description: 'When these figures were measured.' }),
  })
  .meta({
    id: 'CallQuality',
    description:
      "How the gateway receives the call's own leg (the phone side): updated every few seconds while " +
      'the call lives, the final figures once it ended.',
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
    sipReason: z.string().nullable().meta({
      description:
        'The far end’s reason phrase beside sipStatus (e.g. Meta’s “SIP server … does not match”).',
    }),
    metadata: z.record(z.string(), z.unknown()),
    livekitRoomName: z.string().nullable(),
    media: z
      .object({
        encryption: z
          .enum(['none', 'sdes', 'dtls'])
          .meta({ description: 'How the SIP leg keyed its RTP: plain, SDES-SRTP or DTLS-SRTP.' }),
      })
      .nullable()
      .meta({
        description: "The SIP leg's media once its offer/answer settled; null before, or without one.",
      }),
    quality: callQualitySchema.nullable().meta({
      description: "The call's own leg quality; null until it received RTP, or without such a leg.",
    }),
    participants: z
      .array(
        z
          .object({ identity: z.string(), joinedAt: z.iso.datetime() })
          .meta({ id: 'RoomParticipant', description: 'A participant of the call’s room.' }),
      )
      .meta({
        description:
          "Who is in the call's room now besides the call's own SIP participant: agents, browsers, bridged legs (sip_…); empty once the call ended.",
      }),
    startedAt: z.iso.datetime(),
    answeredAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Call' });

export const callListQuerySchema = z.strictObject({
  status: status.optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
  channel: channel.optional().meta({ description: 'Calls with either side on this channel.' }),
  createdFrom: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'Calls created at or after this time.' }),
  createdBefore: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: 'Calls created before this time.' }),
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

export const callLogSchema = z
  .object({
    callId: z.string().regex(CALL_ID_PATTERN),
    appId: z.string(),
    direction: z.enum(['INBOUND', 'OUTBOUND']),
    status: z.enum(CALL_LOG_STATUSES).meta({
      description:
        'INCOMING_CALL while live; VOICEMAIL_RECEIVED if it went to voicemail; ANSWERED_BY_STAFF if a ' +
        'participant took it in its room; ANSWERED_BY_CALLS_PROVIDER if answered with nobody in the ' +
        'room (a call flow); MISSED if never answered.',
    }),
    from: z.string(),
    to: z.string(),
    fromChannel: channel,
    toChannel: channel,
    duration: z.int().min(0),
    startedAt: z.iso.datetime(),
    answeredAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    endReason: z.enum(END_REASONS).nullable(),
    answeredBy: z.string().nullable(),
    externalIds: z.object({ sipCallId: z.string().nullable(), livekitRoomName: z.string().nullable() }),
  })
  .meta({ id: 'CallLog' });
