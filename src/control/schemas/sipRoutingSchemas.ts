import { z } from 'zod';
import { APP_ID_PATTERN } from '../../config/appIds.js';
import { E164, trunkSchema } from '../../config/sipSchema.js';

const TRUNK_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** POST /v1/sip/trunks: a trunk as sip.trunks[] has it (the same schema, the same defaults). */
export const trunkCreateSchema = trunkSchema.meta({
  id: 'SipTrunkCreate',
  description:
    'A trunk as sip.trunks[] has it. Passwords (outbound.password, inboundAuth.password, registration.password) are write-only: responses say hasPassword instead.',
});

const anyValue = (description: string) => z.unknown().optional().meta({ description });

/**
 * PATCH /v1/sip/trunks/{name}: any of the trunk's fields but its name. Each field given replaces
 * the stored one whole (a nested object too), except that a nested object sent without its
 * password keeps the stored password. The trunk after the change is checked as POST checks one.
 */
export const trunkPatchSchema = z
  .strictObject({
    kind: anyValue('pstn or whatsapp'),
    sourceAddresses: anyValue('IPv4/IPv6 addresses or CIDR networks the trunk sends from'),
    inboundAuth: anyValue('{realm, username, password, algorithm}, or null'),
    outbound: anyValue('{host, port, transport, username, password, fromDomain}, or null'),
    registration: anyValue('{username, password, realm, registrar, expiresSeconds, contactUser}, or null'),
    media: anyValue('{encryption, policy}'),
    allowTransfer: anyValue('whether a REFER from this trunk is carried out (true) or refused 403'),
  })
  .meta({
    id: 'SipTrunkUpdate',
    description:
      'Fields to change (name cannot change). A nested object replaces the stored one whole; sent without its password, it keeps the stored one. Checked as POST /v1/sip/trunks checks a trunk; each bad field is a 400 naming it (e.g. outbound.host).',
  });

export const trunkParamsSchema = z.strictObject({
  name: z.string().regex(TRUNK_NAME, 'a trunk name: lowercase letters, digits, _ and -'),
});

const source = z.enum(['config', 'api']).meta({
  description: 'config: from the YAML file, read-only (PATCH and DELETE answer 409); api: made by this API.',
});

const registrationView = z
  .object({
    username: z.string(),
    hasPassword: z.literal(true),
    realm: z.string().optional(),
    registrar: z.string().optional(),
    expiresSeconds: z.int(),
    contactUser: z.string().optional(),
    state: z.enum(['registering', 'registered', 'failed', 'unregistered']).nullable(),
    expiresAt: z.iso.datetime().nullable(),
    lastError: z.string().nullable(),
  })
  .nullable()
  .meta({
    description: "The trunk's registration settings and its current state; null: it does not register.",
  });

export const trunkViewSchema = z
  .object({
    id: z.string().meta({ description: 'The trunk name (what calls, metrics and logs carry).' }),
    name: z.string(),
    kind: z.enum(['pstn', 'whatsapp']),
    source,
    sourceAddresses: z.array(z.string()),
    inboundAuth: z
      .object({
        realm: z.string(),
        username: z.string(),
        algorithm: z.enum(['MD5', 'SHA-256']),
        hasPassword: z.literal(true),
      })
      .nullable(),
    outbound: z
      .object({
        host: z.string(),
        port: z.int().optional(),
        transport: z.enum(['udp', 'tcp', 'tls']),
        username: z.string().optional(),
        hasPassword: z.boolean(),
        fromDomain: z.string().optional(),
      })
      .nullable(),
    registration: registrationView,
    media: z.object({
      encryption: z.enum(['none', 'sdes', 'dtls', 'sdes_or_dtls']),
      policy: z.enum(['required', 'optional']),
    }),
    allowTransfer: z.boolean(),
    createdAt: z.iso.datetime().nullable(),
    updatedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'SipTrunk' });

export const trunkListSchema = z.object({ trunks: z.array(trunkViewSchema) }).meta({ id: 'SipTrunkList' });

const appId = z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics');

export const numberCreateSchema = z
  .strictObject({
    number: z.string().regex(E164, 'an E.164 number such as +15550100'),
    appId,
    trunk: z
      .string()
      .regex(TRUNK_NAME, 'a trunk name: lowercase letters, digits, _ and -')
      .optional()
      .meta({ description: 'The only (pstn) trunk that may deliver this number; any trunk when left out.' }),
  })
  .meta({ id: 'SipNumberCreate' });

export const numberViewSchema = z
  .object({
    number: z.string(),
    appId: z.string(),
    trunk: z.string().nullable(),
    source,
    createdAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'SipNumber' });

export const numberListSchema = z
  .object({ numbers: z.array(numberViewSchema) })
  .meta({ id: 'SipNumberList' });

export const numberParamsSchema = z.strictObject({
  number: z.string().regex(E164, 'an E.164 number such as +15550100 (%2B15550100 in a path)'),
});

export const appSipPatchSchema = z
  .strictObject({
    outboundTrunk: z
      .string()
      .regex(TRUNK_NAME, 'a trunk name: lowercase letters, digits, _ and -')
      .nullable()
      .meta({
        description: "A pstn trunk with outbound settings for the app's PSTN calls; null removes it.",
      }),
  })
  .meta({ id: 'AppSipUpdate' });

export const appSipSchema = z
  .object({
    appId: z.string(),
    outboundTrunk: z.string().nullable(),
    source: source.nullable(),
  })
  .meta({ id: 'AppSip' });
