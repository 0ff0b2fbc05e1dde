import type { Logger } from 'pino';
import type { TrunkConfig } from '../../config/sipSchema.js';
import { encryptionRefusal } from '../../media/sdp/offerEncryption.js';
import {
  decideInbound,
  refreshMethodFor,
  type SessionTimerSettings,
} from '../sessionTimers/sessionTimerRules.js';
import type { SipLegJournal } from '../sipLegJournal.js';
import type { CreateUas } from '../srfAdapters.js';
import type { InboundRequest, InboundResponse } from '../srfTypes.js';
import { encryptionPolicyOf } from '../trunkMedia.js';
import { type WhatsAppCallInfo, whatsappInfoOf } from '../whatsappHeaders.js';
import type { WhatsAppNumbers } from '../whatsappNumbers.js';
import type { DigestAuthenticator } from './digestAuth.js';
import { calledNumber, type NumberRouter } from './numberRouter.js';
import { invitesOption } from './reliableProvisional.js';
import { SipIncomingLeg } from './sipIncomingLeg.js';
import { refuse } from './sipRefusal.js';
import type { TrunkMatcher } from './trunkMatcher.js';

/** Where an INVITE that signalling has identified and routed is going: an app, via a trunk. */
export interface InboundRoute {
  appId: string;
  trunk: Pick<TrunkConfig, 'name' | 'kind'>;
  /** The number called (E.164 as the Request-URI has it). */
  number: string;
  /**
   * The caller's number or user from the From header; undefined when it has none. A WhatsApp
   * caller may be a BSUID (business-scoped user id) instead of a phone number.
   */
  caller: string | undefined;
  sipCallId: string | null;
  /** Meta's x-wa-meta-* headers, for a call from a WhatsApp trunk. */
  whatsapp?: WhatsAppCallInfo;
  /** How the call came: an INVITE (the default) or a Cloud API webhook (WhatsApp Graph mode). */
  via?: 'sip' | 'graph';
}

/**
 * Who takes the calls signalling lets through (the call layer's InboundCalls): it refuses the
 * leg itself when the app may not take the call. Declared here, so signalling needs nothing
 * from the layers above it.
 */
export interface InboundCallSink {
  /** Settles once the call exists or the leg was refused. */
  offer(leg: SipIncomingLeg, route: InboundRoute, log: Logger): Promise<unknown>;
}

export interface InboundInviteDeps {
  trunks: TrunkMatcher;
  numbers: NumberRouter;
  /** Business numbers on Meta's SIP mode: a WhatsApp trunk's calls must be for one of its own. */
  whatsapp?: WhatsAppNumbers;
  digest: DigestAuthenticator;
  calls: InboundCallSink;
  createUas: CreateUas;
  /** Writes each call's SIP leg down, so a crash does not leave the caller ringing. */
  journal?: SipLegJournal | undefined;
  /** RFC 4028 session timers for PSTN trunks' calls; undefined: none (sip.sessionTimers.enabled false). */
  sessionTimers?: SessionTimerSettings | undefined;
  logger: Logger;
}

/**
 * The SIP half of the inbound INVITE pipeline: which trunk (source address, TLS for WhatsApp),
 * is it who it says (digest, where the trunk has credentials), which app (called number). What
 * passes goes to the call layer as an incoming leg; each refusal here is one final response with
 * a Reason header, and a log line.
 */
export class InboundInvites {
  constructor(private readonly deps: InboundInviteDeps) {}

  handle(req: InboundRequest, res: InboundResponse): void {
    const sipCallId = req.get('Call-ID') ?? null;
    const log = this.deps.logger.child({ sipCallId, source: req.source_address });
    const first = this.identify(req, res);
    if (!first) return;
    const number = calledNumber(req.uri);
    const business = number && first.kind === 'whatsapp' ? this.deps.whatsapp?.get(number) : undefined;
    // A WhatsApp call belongs to its number's trunk (which must list the source too), see matchNamed.
    const trunk = business
      ? (this.deps.trunks.matchNamed(business.trunk, req.source_address) ?? first)
      : first;
    if (!this.authenticate(trunk, req, res)) return;
    const appId = number ? (business?.appId ?? this.deps.numbers.appFor(number, trunk.name)) : undefined;
    if (!number || !appId || (trunk.kind === 'whatsapp' && business?.trunk !== trunk.name)) {
      log.info({ uri: req.uri, trunk: trunk.name }, 'INVITE for a number no app takes');
      refuse(res, 404, 'no app for this number');
      return;
    }
    // Media the policy refuses (plain RTP where SRTP is required) is refused before ringing. A
    // WhatsApp number is keyed as Meta keys it (its srtp_key_exchange_protocol).
    const policy = business ? { method: business.keying, required: true } : encryptionPolicyOf(trunk);
    const refusal = req.body ? encryptionRefusal(req.body, policy) : null;
    if (refusal) {
      log.info({ trunk: trunk.name, reason: refusal }, 'INVITE refused: media encryption');
      refuse(res, 488, refusal);
      return;
    }
    // Session timers (RFC 4028) on PSTN trunks only: an interval below our Min-SE is refused
    // before ringing; otherwise the 200 OK grants one (never toward WhatsApp).
    const timer = trunk.kind === 'pstn' ? this.sessionTimer(req) : undefined;
    if (timer?.kind === 'reject') {
      log.info({ trunk: trunk.name, sessionExpires: req.get('Session-Expires') }, 'INVITE refused: 422');
      refuse(res, 422, 'session interval too small', timer.headers);
      return;
    }
    const leg = new SipIncomingLeg(req, res, {
      createUas: this.deps.createUas,
      journal: this.deps.journal,
      logger: log,
      ...(timer?.kind === 'timer'
        ? {
            sessionTimer: {
              seconds: timer.seconds,
              refresher: timer.refresher,
              headers: timer.headers,
              // Where we refresh: UPDATE if the caller's INVITE allowed it (and the config does).
              refreshMethod: refreshMethodFor(this.deps.sessionTimers?.refreshMethod, req.get('Allow')),
              minSeSeconds: this.deps.sessionTimers?.minSeSeconds,
            },
          }
        : {}),
    });
    void this.deps.calls
      .offer(
        leg,
        {
          appId,
          trunk,
          number,
          caller: callerOf(req),
          sipCallId,
          ...(trunk.kind === 'whatsapp' ? { whatsapp: whatsappInfoOf((name) => req.get(name)) } : {}),
        },
        log,
      )
      .catch((error: unknown) => {
        // A call the gateway failed to take is refused, never left ringing.
        log.error({ err: error }, 'taking an inbound call failed');
        leg.refuse(500, 'gateway error');
      });
  }

  private sessionTimer(req: InboundRequest) {
    const ours = this.deps.sessionTimers;
    if (!ours) return undefined;
    return decideInbound(
      {
        sessionExpires: req.get('Session-Expires') ?? req.get('x'),
        minSe: req.get('Min-SE'),
        supportsTimer:
          invitesOption(req, 'Supported', 'timer') ||
          invitesOption(req, 'k', 'timer') ||
          invitesOption(req, 'Require', 'timer'),
      },
      ours,
    );
  }

  private identify(req: InboundRequest, res: InboundResponse): TrunkConfig | undefined {
    const trunk = this.deps.trunks.match(req.source_address);
    if (!trunk) {
      this.deps.logger.warn({ source: req.source_address }, 'INVITE from an address no trunk lists');
      refuse(res, 403, 'unknown source');
      return undefined;
    }
    if (trunk.kind === 'whatsapp' && req.protocol !== 'tls') {
      refuse(res, 403, 'WhatsApp trunks must use TLS');
      return undefined;
    }
    return trunk;
  }

  private authenticate(trunk: TrunkConfig, req: InboundRequest, res: InboundResponse): boolean {
    const credentials = trunk.inboundAuth;
    if (!credentials) return true;
    const verdict = this.deps.digest.verify(
      req.get('Authorization'),
      { method: req.method, uri: req.uri },
      credentials,
    );
    if (verdict === 'ok') return true;
    // Never the Authorization header itself: it is a credential for as long as its nonce lives.
    const where = { trunk: trunk.name, source: req.source_address, sipCallId: req.get('Call-ID') };
    if (verdict === 'invalid' || verdict === 'wrong-uri') {
      const wrongUri = verdict === 'wrong-uri';
      this.deps.logger.warn(
        where,
        wrongUri ? 'INVITE with credentials for another request-URI' : 'INVITE with wrong credentials',
      );
      refuse(res, 403, wrongUri ? 'credentials for another request-URI' : 'wrong credentials');
      return false;
    }
    if (verdict === 'replayed')
      this.deps.logger.warn(where, 'INVITE with credentials already used: challenged');
    res.send(401, undefined, {
      headers: { 'WWW-Authenticate': this.deps.digest.challenge(credentials, verdict !== 'missing') },
    });
    return false;
  }
}

/** The caller's number or user from the From header, for the Call's fromAddress. */
function callerOf(req: InboundRequest): string | undefined {
  const from = req.get('From') ?? '';
  return /<?(?:sips?|tel):([^@;>]+)/i.exec(from)?.[1];
}
