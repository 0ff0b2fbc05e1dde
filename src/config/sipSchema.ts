import { z } from 'zod';
import { APP_ID_PATTERN } from './appIds.js';
import { parseHostPort } from './hostPort.js';

const port = z.int().min(1).max(65535);
/** RFC 4028 4: Min-SE "MUST NOT be less than 90 seconds" (sessionTimerRules.ts has the same floor). */
const RFC_MIN_SE_SECONDS = 90;
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

/**
 * Outbound registration (RFC 3261 §10) for a trunk that sends calls only to a registered contact:
 * the gateway REGISTERs `sip:<username>@<realm>` with our SIP server's address as Contact, answers
 * the registrar's digest challenge (MD5 or SHA-256), refreshes before the granted expiry, retries
 * with backoff when refused, and un-REGISTERs when it stops. Needs the trunk's outbound settings:
 * the REGISTER goes over their transport, to their host and port unless `registrar` says otherwise.
 */
const registrationSchema = z.strictObject({
  username: z.string().min(1),
  /** A secret: never logged, never returned by the API, never echoed in a config error. */
  password: z.string().min(1),
  /** Domain of the address of record (From/To) and of the REGISTER's Request-URI; default: the registrar's host. */
  realm: host.optional(),
  /** `host[:port]` the REGISTER is sent to; default: the trunk's outbound host and port. */
  registrar: z
    .string()
    .refine((value) => parseHostPort(value) !== undefined, {
      error: 'host or host:port (an IPv6 address in brackets when a port follows)',
    })
    .optional(),
  /** The binding asked for; the registrar may grant less (or demand more, 423 Min-Expires). */
  expiresSeconds: z.int().min(60).max(86400).default(3600),
  /** User part of our Contact (what the carrier sends its INVITEs to); default: username. */
  contactUser: z
    .string()
    .regex(/^[A-Za-z0-9+._~!$&'()*=,;?/-]{1,64}$/, 'letters, digits and SIP user characters, at most 64')
    .optional(),
});

/** One trunk as sip.trunks[] has it; the routing API (POST /v1/sip/trunks) takes the same shape. */
export const trunkSchema = z.strictObject({
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
  /** REGISTER to the carrier so it sends calls to us; null: the trunk needs no registration. */
  registration: registrationSchema.nullable().default(null),
  /** Media encryption of this trunk's calls, both directions; plain RTP by default. */
  media: trunkMediaSchema.default({ encryption: 'none', policy: 'required' }),
  /**
   * Whether the far end of this trunk's calls may transfer them by REFER (a PBX handing the call
   * on): the target is dialled through the app's outbound trunk into the call's room. Off by
   * default (absent is false): such a REFER is refused 403, since it would place a call on our
   * trunk's account.
   */
  allowTransfer: z.boolean().optional(),
});

const numberSchema = z.strictObject({
  /** The called number (E.164) as it arrives in the request-URI or To. */
  number: z.string().regex(E164, 'an E.164 number such as +15550100'),
  appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
});

/**
 * A WhatsApp business number on Meta's SIP mode (whatsappSipEnabled), as Meta's settings have it:
 * its app, the trunk Meta's edge is (source addresses, where business-initiated INVITEs go), the
 * SIP server hostname Meta has for the number (our TLS name and From host: Meta answers 403 when
 * they differ), the SIP password Meta issued (the digest answer to Meta's 407, with the number as
 * username) and the number's srtp_key_exchange_protocol.
 */
const whatsappNumberSchema = z.strictObject({
  number: z.string().regex(E164, 'an E.164 number such as +15550100'),
  appId: z.string().regex(APP_ID_PATTERN, 'an app id: app_[test_] and 27 alphanumerics'),
  /** A trunk of kind whatsapp. */
  trunk: z.string().min(1),
  sipHostname: z.hostname(),
  /** A secret: never logged, never returned by the API. */
  password: z.string().min(1),
  /** How Meta keys this number's media: DTLS-SRTP over ICE (Meta's default) or SDES. */
  keying: z.enum(['dtls', 'sdes']).default('dtls'),
});

/**
 * The TLS identity of the SIP server's `transport=tls` contacts (WhatsApp needs TLS). The embedded
 * server reads these files; a real drachtio-server has its own (sip/drachtio.conf.xml). No ALPN
 * is offered or required: Meta aborts a handshake offering ALPN `sip`.
 */
const tlsSchema = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  chainFile: z.string().min(1).optional(),
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
    /** WhatsApp business numbers on Meta's SIP mode; their calls need TLS and SRTP. */
    whatsapp: z.strictObject({ numbers: z.array(whatsappNumberSchema).default([]) }).default({ numbers: [] }),
    /** Certificate and key for the embedded SIP server's TLS contacts; null: no TLS listener. */
    tls: tlsSchema.nullable().default(null),
    /**
     * How long a call rings unanswered: an inbound call waiting for an accept/reject action, an
     * outbound call waiting for the far end's answer (a per-call ringTimeoutSeconds overrides it).
     */
    ringTimeoutSeconds: z.int().min(1).max(600),
    /**
     * RFC 4028 session timers on PSTN trunks' calls, both ways (never WhatsApp): the interval
     * granted at most (and asked for on our INVITEs), the smallest accepted (422 with Min-SE below
     * it; the RFC's floor is 90 s), and how we refresh where we are the refresher: `update` is
     * UPDATE (no SDP) when the far end's Allow lists it, else re-INVITE; `invite` always re-INVITE.
     */
    sessionTimers: z
      .strictObject({
        enabled: z.boolean().default(true),
        expiresSeconds: z.int().min(RFC_MIN_SE_SECONDS).max(86_400).default(1800),
        minSeSeconds: z
          .int()
          .min(RFC_MIN_SE_SECONDS, `at least ${RFC_MIN_SE_SECONDS} (RFC 4028)`)
          .default(RFC_MIN_SE_SECONDS),
        refreshMethod: z.enum(['update', 'invite']).default('update'),
      })
      .refine((t) => t.minSeSeconds <= t.expiresSeconds, {
        message: 'minSeSeconds may not exceed expiresSeconds',
        path: ['minSeSeconds'],
      })
      .default({
        enabled: true,
        expiresSeconds: 1800,
        minSeSeconds: RFC_MIN_SE_SECONDS,
        refreshMethod: 'update',
      }),
  })
  .refine((sip) => new Set(sip.trunks.map((t) => t.name)).size === sip.trunks.length, {
    message: 'trunk names must be unique',
    path: ['trunks'],
  })
  .refine(
    (sip) => {
      const all = [...sip.numbers, ...sip.whatsapp.numbers].map((n) => n.number);
      return new Set(all).size === all.length;
    },
    {
      message: 'each number may be routed only once (numbers and whatsapp.numbers together)',
      path: ['numbers'],
    },
  )
  .refine((sip) => new Set(sip.apps.map((a) => a.appId)).size === sip.apps.length, {
    message: 'each app may be listed only once',
    path: ['apps'],
  })
  .superRefine((sip, ctx) => {
    for (const [index, trunk] of sip.trunks.entries()) {
      if (trunk.registration && !trunk.outbound) {
        ctx.addIssue({
          code: 'custom',
          message: `trunk "${trunk.name}" registers only with outbound settings (the transport, and the host unless registrar is set)`,
          path: ['trunks', index, 'registration'],
        });
      }
    }
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
    for (const [index, entry] of sip.whatsapp.numbers.entries()) {
      const trunk = sip.trunks.find((t) => t.name === entry.trunk);
      const problem = !trunk
        ? `no trunk named "${entry.trunk}"`
        : trunk.kind !== 'whatsapp'
          ? `trunk "${trunk.name}" is not a whatsapp trunk`
          : trunk.outbound && trunk.outbound.transport !== 'tls'
            ? `trunk "${trunk.name}" must reach Meta over tls`
            : undefined;
      if (problem)
        ctx.addIssue({ code: 'custom', message: problem, path: ['whatsapp', 'numbers', index, 'trunk'] });
    }
    const tlsContact = sip.contacts.some((contact) => /transport=[a-z,]*tls/i.test(contact));
    if (sip.engine === 'embedded' && tlsContact && !sip.tls) {
      ctx.addIssue({
        code: 'custom',
        message: 'a transport=tls contact needs sip.tls (certFile and keyFile)',
        path: ['tls'],
      });
    }
  });

export type SipConfig = z.infer<typeof sipSchema>;
export type TrunkConfig = z.infer<typeof trunkSchema>;
export type TrunkRegistrationConfig = z.infer<typeof registrationSchema>;
export type WhatsAppNumberConfig = z.infer<typeof whatsappNumberSchema>;
