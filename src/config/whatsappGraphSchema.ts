import { z } from 'zod';
import { APP_ID_PATTERN } from './appIds.js';
import { E164 } from './sipSchema.js';

/** Where each provider's API is, unless a number says otherwise (tests point it at a stand-in). */
export const GRAPH_DEFAULT_BASE_URLS = {
  meta: 'https://graph.facebook.com/v21.0',
  '360dialog': 'https://waba-v2.360dialog.io',
} as const;

/**
 * The provider's API must be HTTPS (it carries the access token); plain http only to this
 * machine, where a test's stand-in or a local relay listens.
 */
const providerUrl = z.url().refine(
  (value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  },
  { message: 'an https:// URL (http:// only to 127.0.0.1 or localhost)' },
);

/**
 * A WhatsApp business number in Graph mode (whatsappCallingEnabled without whatsappSipEnabled):
 * its calls arrive as Cloud API webhooks and are answered by call actions over HTTPS, with WebRTC
 * media. The access token, app secret and verify token are secrets: never logged or returned.
 */
export const graphNumberSchema = z.strictObject({
  number: z.string().regex(E164, 'an E.164 number such as +15550100'),
  appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
  /** Meta's id of the number (metadata.phone_number_id in webhooks, the path of call actions). */
  phoneNumberId: z.string().regex(/^[0-9]{1,32}$/, 'the digits of Meta’s phone number id'),
  /** meta: the Graph API with a Bearer token; 360dialog: its wrapper with a D360-API-KEY. */
  provider: z.enum(['meta', '360dialog']),
  /** Default: the provider's public API (GRAPH_DEFAULT_BASE_URLS). */
  baseUrl: providerUrl.nullable().default(null),
  /** Meta: a system user access token; 360dialog: the channel's API key. */
  accessToken: z.string().min(8),
  /** The Meta app's secret: the key of each webhook's X-Hub-Signature-256. */
  appSecret: z.string().min(8),
  /** What Meta sends as hub.verify_token when the webhook is registered. */
  verifyToken: z.string().min(8),
});

export const whatsappSchema = z.strictObject({
  /** The TLS port of our SIP server that Meta's edge dials, sent with a number's SIP settings. */
  sipPort: z.int().min(1).max(65535),
  graph: z.strictObject({
    numbers: z.array(graphNumberSchema),
  }),
});

export type GraphNumberConfig = z.infer<typeof graphNumberSchema>;
