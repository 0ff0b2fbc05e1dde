import { z } from 'zod';
import { MAX_CALL_SECONDS } from '../../config/schema.js';
import { nestsDeeperThan } from '../jsonNesting.js';
import { PARTICIPANT_IDENTITY, PARTICIPANT_IDENTITY_RULE } from './callTokenSchemas.js';

/** E.164: a plus, then at most 15 digits, the first not 0. Addresses on pstn and whatsapp. */
export const E164_ADDRESS = /^\+[1-9]\d{1,14}$/;
/**
 * A WhatsApp user known by a business-scoped user id (BSUID) instead of a phone number: up to 256
 * letters and digits (Meta, 2026). Only whatsapp addresses may be one.
 */
export const BSUID_ADDRESS = /^[A-Za-z0-9]{1,256}$/;
/** A call's metadata, serialized as JSON, may be at most this long (UTF-8 bytes). */
export const METADATA_MAX_BYTES = 4096;
/**
 * Deepest nesting of a call's metadata, itself counting as 1. Checked before its size, without
 * recursion: JSON.stringify recurses, and deep enough metadata would overflow its stack.
 */
export const METADATA_MAX_DEPTH = 16;

const channel = z.enum(['pstn', 'whatsapp', 'webrtc']);

function addressProblem(address: string, on: z.infer<typeof channel>): string | undefined {
  if (on === 'webrtc') {
    return PARTICIPANT_IDENTITY.test(address)
      ? undefined
      : `a webrtc address is a participant identity: ${PARTICIPANT_IDENTITY_RULE}`;
  }
  if (E164_ADDRESS.test(address)) return undefined;
  if (on === 'whatsapp') {
    return BSUID_ADDRESS.test(address)
      ? undefined
      : 'a whatsapp address is an E.164 number such as +15550100 or a BSUID (1-256 letters and digits)';
  }
  return `an E.164 number such as +15550100 on ${on}`;
}

/**
 * The rule addressProblem enforces, in JSON Schema terms for the OpenAPI document: an address is a
 * participant identity when its channel is webrtc, else (pstn, whatsapp, or left out) E.164.
 */
function addressRule(field: 'from' | 'to', channelField: 'fromChannel' | 'toChannel') {
  return {
    anyOf: [
      {
        required: [channelField],
        properties: {
          [channelField]: { const: 'webrtc' },
          [field]: { pattern: PARTICIPANT_IDENTITY.source },
        },
      },
      {
        required: [channelField],
        properties: {
          [channelField]: { const: 'whatsapp' },
          [field]: { anyOf: [{ pattern: E164_ADDRESS.source }, { pattern: BSUID_ADDRESS.source }] },
        },
      },
      {
        properties: {
          [channelField]: { not: { enum: ['webrtc', 'whatsapp'] } },
          [field]: { pattern: E164_ADDRESS.source },
        },
      },
    ],
  };
}

export const callCreateSchema = z
  .strictObject({
    from: z.string().meta({
      description: `The caller: an E.164 number (${E164_ADDRESS.source}) on pstn/whatsapp, presented as caller id; a participant identity (${PARTICIPANT_IDENTITY.source}: ${PARTICIPANT_IDENTITY_RULE}) on webrtc.`,
    }),
    to: z.string().meta({
      description: `The callee: an E.164 number (${E164_ADDRESS.source}) on pstn/whatsapp; a participant identity (${PARTICIPANT_IDENTITY.source}) on webrtc.`,
    }),
    fromChannel: channel.default('pstn'),
    toChannel: channel.default('pstn').meta({
      description:
        'pstn: dialled through the app’s trunk; webrtc: a browser joins the room; whatsapp: a WhatsApp user called over SIP from one of the app’s business numbers (`from`), for an app with whatsappCallingEnabled and whatsappSipEnabled.',
    }),
    metadata: z
      .record(z.string(), z.unknown())
      .default({})
      .superRefine((metadata, ctx) => {
        if (nestsDeeperThan(metadata, METADATA_MAX_DEPTH)) {
          ctx.addIssue({ code: 'custom', message: `nested at most ${METADATA_MAX_DEPTH} levels deep` });
        } else if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
          ctx.addIssue({ code: 'custom', message: `at most ${METADATA_MAX_BYTES} bytes as JSON` });
        }
      })
      .meta({
        description: `Yours, returned as given: a JSON object of at most ${METADATA_MAX_BYTES} bytes, nested at most ${METADATA_MAX_DEPTH} levels deep (the object itself is level 1).`,
      }),
    ringTimeoutSeconds: z.int().min(1).max(600).optional().meta({
      description: 'Unanswered this long: no_answer / ring_timeout. Default: sip.ringTimeoutSeconds.',
    }),
    maxDurationSeconds: z.int().min(1).max(MAX_CALL_SECONDS).optional().meta({
      description:
        'Answered this long: the call is hung up with endReason max_duration. Default: calls.maxDurationSeconds.',
    }),
  })
  .superRefine((body, ctx) => {
    const fromProblem = addressProblem(body.from, body.fromChannel);
    if (fromProblem) ctx.addIssue({ code: 'custom', path: ['from'], message: fromProblem });
    const toProblem = addressProblem(body.to, body.toChannel);
    if (toProblem) ctx.addIssue({ code: 'custom', path: ['to'], message: toProblem });
  })
  .meta({ id: 'CallCreate', allOf: [addressRule('from', 'fromChannel'), addressRule('to', 'toChannel')] });
