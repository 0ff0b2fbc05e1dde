import { z } from 'zod';

export const callTokenRequestSchema = z
  .strictObject({
    /** Who joins: shown to the other participants; `sip_` identities are the gateway's own. */
    identity: z
      .string()
      .regex(
        /^(?!sip_)[A-Za-z0-9_.@-]{1,128}$/,
        'letters, digits, _ . @ -, at most 128, not starting with sip_',
      ),
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
