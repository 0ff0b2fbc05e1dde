import type { SipConfig, TrunkConfig, WhatsAppNumberConfig } from '../../config/sipSchema.js';
import type { EncryptionPolicy } from '../../media/srtp/srtpTypes.js';
import type { SessionTimerSettings } from '../sessionTimers/sessionTimerRules.js';
import { encryptionPolicyOf } from '../trunkMedia.js';

/** Everything an outgoing INVITE through a trunk needs: where, who from, with what credentials. */
export interface InviteTarget {
  trunk: string;
  /** Request-URI: `sip:<to>@host[:port];transport=…`. */
  uri: string;
  /** From, To and P-Asserted-Identity; the SIP server adds the From tag, Call-ID, Via and Contact. */
  headers: Record<string, string>;
  /** Answers a 401/407 challenge; absent for trunks that trust our address. */
  auth?: { username: string; password: string };
  /** The trunk's media encryption: what our offer proposes and its answer must satisfy (default none). */
  encryption?: EncryptionPolicy;
  /** Session timers (RFC 4028) the INVITE offers; set by the dialer for PSTN legs, never WhatsApp. */
  sessionTimers?: SessionTimerSettings;
}

/**
 * What Meta's edge accepts (its Allow), and so all we announce on a WhatsApp leg. Nothing else is
 * ever sent on a SIP leg: the gateway sends no re-INVITE (hold is a mute in the room), no UPDATE,
 * no session timers, and DTMF only as RFC 4733 events; SIP INFO digits are only received.
 */
export const WHATSAPP_ALLOW = 'INVITE, ACK, BYE, CANCEL, NOTIFY, OPTIONS';

/** `[2001:db8::1]` for IPv6 literals, the host as is otherwise. */
function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Which trunk an app's outbound PSTN calls use (`sip.apps[].outboundTrunk`) and how an INVITE
 * through it is addressed. The caller id goes in From and P-Asserted-Identity as
 * `sip:<from>@<fromDomain>`; the called number is the user part of the request-URI and To.
 */
type OutboundRouting = {
  trunks: readonly TrunkConfig[];
  apps: readonly SipConfig['apps'][number][];
  whatsapp?: { numbers: readonly WhatsAppNumberConfig[] };
};

export class OutboundTrunks {
  private byAppCache = new Map<string, TrunkConfig>();
  private whatsappCache: readonly WhatsAppNumberConfig[] = [];
  private built: OutboundRouting | undefined;
  private readonly source: () => OutboundRouting;

  /** Given a function, the trunks and apps are read live (the routing API's changes). */
  constructor(sip: OutboundRouting | (() => OutboundRouting)) {
    this.source = typeof sip === 'function' ? sip : () => sip;
  }

  private get sip(): OutboundRouting {
    const sip = this.source();
    if (sip === this.built) return sip;
    this.built = sip;
    this.whatsappCache = sip.whatsapp?.numbers ?? [];
    this.byAppCache = new Map();
    for (const app of sip.apps) {
      const trunk = sip.trunks.find((t) => t.name === app.outboundTrunk);
      // The config schema (and the routing API) refuse an app whose trunk is missing or has no outbound side.
      if (trunk?.outbound) this.byAppCache.set(app.appId, trunk);
    }
    return sip;
  }

  private get byApp(): Map<string, TrunkConfig> {
    void this.sip;
    return this.byAppCache;
  }

  private get whatsapp(): readonly WhatsAppNumberConfig[] {
    void this.sip;
    return this.whatsappCache;
  }

  /** The name of the app's outbound trunk, if it has one. */
  trunkOf(appId: string): string | undefined {
    return this.byApp.get(appId)?.name;
  }

  /** The INVITE for a call from `from` to `to` (E.164 both) through the app's trunk. */
  inviteFor(appId: string, from: string, to: string): InviteTarget | undefined {
    const trunk = this.byApp.get(appId);
    const out = trunk?.outbound;
    if (!trunk || !out) return undefined;
    const host = uriHost(out.host);
    const hostPort = out.port === undefined ? host : `${host}:${out.port}`;
    const caller = `<sip:${from}@${uriHost(out.fromDomain ?? out.host)}>`;
    return {
      trunk: trunk.name,
      uri: `sip:${to}@${hostPort};transport=${out.transport}`,
      headers: {
        From: caller,
        To: `<sip:${to}@${host}>`,
        'P-Asserted-Identity': caller,
        // RFC 3262: a carrier may send its 18x reliably; srf PRACKs it (the SIP server sends it).
        Supported: '100rel',
      },
      // Only a trunk that encrypts says so: a plain trunk's INVITE is as it always was.
      ...(trunk.media.encryption === 'none' ? {} : { encryption: encryptionPolicyOf(trunk) }),
      ...(out.username !== undefined && out.password !== undefined
        ? { auth: { username: out.username, password: out.password } }
        : {}),
    };
  }

  /**
   * A business-initiated WhatsApp call (toChannel whatsapp) from one of the app's business
   * numbers: the INVITE goes to Meta's edge (the number's trunk), `sip:<to>@<edge>;transport=tls`;
   * From is `<sip:<number>@<the SIP hostname Meta has for it>>` (Meta refuses another host with
   * 403); Meta's 407 is answered with the number as username and Meta's SIP password; media is
   * keyed as the number's settings say, SRTP always.
   */
  whatsappInviteFor(appId: string, from: string, to: string): InviteTarget | undefined {
    const entry = this.whatsapp.find((candidate) => candidate.number === from && candidate.appId === appId);
    const trunk = entry ? this.sip.trunks.find((candidate) => candidate.name === entry.trunk) : undefined;
    const out = trunk?.outbound;
    if (!entry || !trunk || !out) return undefined;
    const host = uriHost(out.host);
    const hostPort = out.port === undefined ? host : `${host}:${out.port}`;
    return {
      trunk: trunk.name,
      uri: `sip:${to}@${hostPort};transport=tls`,
      headers: {
        From: `<sip:${from}@${entry.sipHostname}>`,
        To: `<sip:${to}@${host}>`,
        Allow: WHATSAPP_ALLOW,
      },
      encryption: { method: entry.keying, required: true },
      auth: { username: from, password: entry.password },
    };
  }
}
