import { z } from 'zod';
import { APP_ID_PATTERN } from './appIds.js';

const port = z.int().min(1).max(65535);
export const E164 = /^\+[1-9][0-9]{6,14}$/;

/** A source address or network: `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`. */
const sourceAddress = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: 'an IPv4/IPv6 address or CIDR network',
});

/** A hostname, an IPv4 address or an IPv6 address (without brackets). */
const host = z.union([z.ipv4(), z.ipv6(), z.hostname()], { error: 'a hostname or an IP address' });

/**
 * The outbound side of a trunk: the INVITE goes to sip:<to>@host[:port];transport=…, From and
 * P-Asserted-Identity carry the caller id as sip:<from>@fromDomain, and a 401/407 challenge is
 * answered with username/password when the trunk has them (trunks that trust our address have none).
 */
const outboundSchema = z
  .strictObject({
    host,
    /** Default: 5060, or 5061 for tls. */
    port: port.optional(),
    transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
    username: z.string().min(1).optional(),
    /** A secret: never logged, never echoed in a config error. */
    password: z.string().min(1).optional(),
    /** Host part of From and P-Asserted-Identity; default: host. */
    fromDomain: host.optional(),
  })
  .refine((o) => (o.username === undefined) === (o.password === undefined), {
    message: 'username and password go together',
    path: ['password'],
  });

/**
 * How a trunk's media is encrypted. `encryption` names the keying: none (plain RTP/AVP), sdes
 * (SRTP keyed by a=crypto, RFC 4568), dtls (DTLS-SRTP over ICE, RFC 5763/5764, as WhatsApp does
 * by default) or sdes_or_dtls (whichever the peer offers; our own offers use DTLS, since one m=
 * line carries one keying). `policy` says what happens when the peer does not do it: required
 * refuses the call (488 to an offer, media_error for an outbound answer), optional takes plain
 * RTP from a peer that offers only that. An outbound DTLS offer cannot fall back: UDP/TLS is
 * answered with DTLS or not at all.
 */
const trunkMediaSchema = z.strictObject({
  encryption: z.enum(['none', 'sdes', 'dtls', 'sdes_or_dtls']).default('none'),
  policy: z.enum(['required', 'optional']).default('required'),
});

const trunkSchema = z.strictObject({
  /** Names the trunk in logs, metrics and call attributes. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ and -'),
  kind: z.enum(['pstn', 'whatsapp']),
  /** Only INVITEs from these addresses are taken as coming from this trunk. */
  sourceAddresses: z.array(sourceAddress).min(1),
  /** When set, INVITEs from this trunk must also answer a digest challenge with these credentials. */
  inboundAuth: z
    .strictObject({
      realm: z.string().min(1),
      username: z.string().min(1),
      password: z.string().min(8),
      /**
       * The digest algorithm challenged with, and the only one accepted (RFC 8760). One per trunk:
       * srf sends repeated headers as one comma-joined WWW-Authenticate, which SIP does not allow,
       * so the gateway cannot offer SHA-256 and MD5 side by side.
       */
      algorithm: z.enum(['MD5', 'SHA-256']).default('MD5'),
    })
    .nullable()
    .default(null),
  /** Where this trunk takes the calls apps place (POST /v1/calls); null: inbound only. */
  outbound: outboundSchema.nullable().default(null),
  /** Media encryption of this trunk's calls, both directions; plain RTP by default. */
  media: trunkMediaSchema.default({ encryption: 'none', policy: 'required' }),
});

const numberSchema = z.strictObject({
  /** The called number (E.164) as it arrives in the request-URI or To. */
  number: z.string().regex(E164, 'an E.164 number such as +15550100'),
  appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
});

const appSchema = z.strictObject({
  appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
  /** The trunk this app's PSTN calls (POST /v1/calls, toChannel pstn) go out through. */
  outboundTrunk: z.string().min(1),
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
    /** Per-app SIP settings: which trunk an app's outbound PSTN calls use. */
    apps: z.array(appSchema).default([]),
    /**
     * How long a call rings unanswered: an inbound call waiting for an accept/reject action, an
     * outbound call waiting for the far end's answer (a per-call ringTimeoutSeconds overrides it).
     */
    ringTimeoutSeconds: z.int().min(1).max(600),
  })
  .refine((sip) => new Set(sip.trunks.map((t) => t.name)).size === sip.trunks.length, {
    message: 'trunk names must be unique',
    path: ['trunks'],
  })
  .refine((sip) => new Set(sip.numbers.map((n) => n.number)).size === sip.numbers.length, {
    message: 'each number may be routed only once',
    path: ['numbers'],
  })
  .refine((sip) => new Set(sip.apps.map((a) => a.appId)).size === sip.apps.length, {
    message: 'each app may be listed only once',
    path: ['apps'],
  })
  .superRefine((sip, ctx) => {
    for (const [index, app] of sip.apps.entries()) {
      const trunk = sip.trunks.find((t) => t.name === app.outboundTrunk);
      const problem = !trunk
        ? `no trunk named "${app.outboundTrunk}"`
        : trunk.kind !== 'pstn'
          ? `trunk "${trunk.name}" is not a pstn trunk`
          : !trunk.outbound
            ? `trunk "${trunk.name}" has no outbound settings`
            : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['apps', index, 'outboundTrunk'] });
    }
  });

export type SipConfig = z.infer<typeof sipSchema>;
export type TrunkConfig = z.infer<typeof trunkSchema>;
