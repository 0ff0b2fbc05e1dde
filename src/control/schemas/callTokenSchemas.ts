import { z } from 'zod';

/** A browser participant's identity; `sip_` identities are the gateway's own. */
export const PARTICIPANT_IDENTITY = /^(?!sip_)[A-Za-z0-9_.@-]{1,128}$/;
export const PARTICIPANT_IDENTITY_RULE = 'letters, digits, _ . @ -, at most 128, not starting with sip_';

export const callTokenRequestSchema = z
  .strictObject({
    /** Who joins: shown to the other participants. */
    identity: z.string().regex(PARTICIPANT_IDENTITY, PARTICIPANT_IDENTITY_RULE),
    name: z.string().min(1).max(128).optional(),
    ttlSeconds: z.int().min(60).max(86_400).default(3600),
  })
  .meta({ id: 'CallTokenRequest' });

export const callTokenSchema = z
  .object({
    token: z.string(),
    url: z.string().meta({ description: 'livekit-server URL to connect to with the token' }),
    roomName: z.string(),
    identity: z.string(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'CallToken' });
