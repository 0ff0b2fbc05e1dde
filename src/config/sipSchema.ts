import { z } from 'zod';
import { APP_ID_PATTERN } from './appIds.js';

const port = z.int().min(1).max(65535);
export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** A source address or network: `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`. */
const sourceAddress = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: 'an IPv4/IPv6 address or CIDR network',
});

const trunkSchema = z.strictObject({
  /** Names the trunk in logs, metrics and call attributes. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and -'),
  kind: z.enum(['pstn', 'whatsapp']),
  /** Only INVITEs from these addresses are taken as coming from this trunk. */
  sourceAddresses: z.array(sourceAddress).min(1),
  /** When set, INVITEs from this trunk must also answer a digest challenge with these credentials. */
  inboundAuth: z
    .strictObject({ realm: z.string().min(1), username: z.string().min(1), password: z.string().min(8) })
    .nullable()
    .default(null),
});

const numberSchema = z.strictObject({
  /** The called number (E.164) as it arrives in the request-URI or To. */
  number: z.string().regex(E164, 'an E.164 number such as +15550100'),
  appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
});

export const sipSchema = z
  .strictObject({
    engine: z.enum(['embedded', 'external']),
    drachtio: z.strictObject({
      host: z.string().min(1),
      port,
      secret: z.string().min(1),
    }),
    /** SIP listen addresses, drachtio-server --contact form. */
    contacts: z.array(z.string().regex(/^sips?:/, 'a sip: or sips: uri')).min(1),
    trunks: z.array(trunkSchema),
    numbers: z.array(numberSchema),
    /** How long an inbound call rings waiting for an accept/reject action before it is unanswered. */
    ringTimeoutSeconds: z.int().min(1).max(600),
  })
  .refine((sip) => new Set(sip.trunks.map((t) => t.name)).size === sip.trunks.length, {
    message: 'trunk names must be unique',
    path: ['trunks'],
  })
  .refine((sip) => new Set(sip.numbers.map((n) => n.number)).size === sip.numbers.length, {
    message: 'each number may be routed only once',
    path: ['numbers'],
  });

export type SipConfig = z.infer<typeof sipSchema>;
export type TrunkConfig = z.infer<typeof trunkSchema>;
