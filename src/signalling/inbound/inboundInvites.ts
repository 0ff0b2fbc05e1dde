import type { Logger } from 'pino';
import type { AdmissionGate } from '../../calls/admission.js';
import type { CallService } from '../../calls/callService.js';
import type { InboundAnswer } from '../../calls/inboundAnswer.js';
import type { Voicemail } from '../../calls/voicemail.js';
import type { TrunkConfig } from '../../config/sipSchema.js';
import { type CallingConfigStore, DEFAULT_CALLING_SETTINGS } from '../../store/callingConfigStore.js';
import type { SipLegJournal } from '../sipLegJournal.js';
import type { InboundRequest, InboundResponse } from '../srfTypes.js';
import type { DigestAuthenticator } from './digestAuth.js';
import { calledNumber, type NumberRouter } from './numberRouter.js';
import type { PendingDecisions } from './pendingDecisions.js';
import { RingingCall } from './ringingCall.js';
import { refuse } from './sipRefusal.js';
import type { TrunkMatcher } from './trunkMatcher.js';

export interface InboundInviteDeps {
  trunks: TrunkMatcher;
  numbers: NumberRouter;
  digest: DigestAuthenticator;
  callingConfigs: CallingConfigStore;
  calls: CallService;
  admission: AdmissionGate;
  decisions: PendingDecisions;
  ringTimeoutMs: number;
  logger: Logger;
  /** Answers accepted calls into their rooms; absent where no media plane runs. */
  answer: InboundAnswer | undefined;
  /** Takes messages for apps with voicemail; absent without a media plane. */
  voicemail?: Voicemail | undefined;
  /** Writes the call's SIP leg down, so a crash does not leave the caller ringing. */
  legs?: SipLegJournal | undefined;
}

/**
 * The inbound INVITE pipeline: which trunk (source address, TLS for WhatsApp), is it who it says
 * (digest, where the trunk has credentials), which app (called number), may the app take it
 * (WhatsApp enabled, below maxConcurrentCalls, gateway able to record its events, a media worker
 * with room), then the call exists and rings. Each refusal is one final response with a Reason
 * header, and a log line.
 */
export class InboundInvites {
  constructor(private readonly deps: InboundInviteDeps) {}

  handle(req: InboundRequest, res: InboundResponse): void {
    const sipCallId = req.get('Call-ID') ?? null;
    const log = this.deps.logger.child({ sipCallId, source: req.source_address });
    const trunk = this.identify(req, res);
    if (!trunk) return;
    if (!this.authenticate(trunk, req, res)) return;

    const number = calledNumber(req.uri);
    const appId = number ? this.deps.numbers.appFor(number) : undefined;
    if (!number || !appId) {
      log.info({ uri: req.uri }, 'INVITE for a number no app takes');
      refuse(res, 404, 'no app for this number');
      return;
    }

    const settings = this.deps.callingConfigs.get(appId) ?? DEFAULT_CALLING_SETTINGS;
    if (trunk.kind === 'whatsapp' && !settings.whatsappCallingEnabled) {
      refuse(res, 403, 'WhatsApp calling is not enabled for this app');
      return;
    }
    if (!this.deps.admission.canAcceptWork()) {
      log.warn('refusing a call: the gateway cannot record more events right now');
      refuse(res, 503, 'gateway overloaded', { 'Retry-After': '30' });
      return;
    }
    if (this.deps.answer && !this.deps.answer.hasCapacity()) {
      log.warn('refusing a call: every media worker is at media.maxSessionsPerWorker');
      refuse(res, 503, 'no media capacity', { 'Retry-After': '5' });
      return;
    }
    const call = this.deps.calls.createWithin(
      {
        appId,
        direction: 'inbound',
        fromAddress: callerOf(req) ?? 'anonymous',
        toAddress: number,
        fromChannel: trunk.kind,
        toChannel: 'webrtc',
        metadata: { trunk: trunk.name },
        sipCallId,
      },
      settings.maxConcurrentCalls,
    );
    if (!call) {
      log.info({ appId, limit: settings.maxConcurrentCalls }, 'refusing a call: app at maxConcurrentCalls');
      refuse(res, 486, 'app reached maxConcurrentCalls');
      return;
    }
    log.info({ callId: call.id, appId, trunk: trunk.name }, 'inbound call');
    this.deps.legs?.inbound(call.id, req);
    new RingingCall(call, req, res, {
      calls: this.deps.calls,
      decisions: this.deps.decisions,
      ringTimeoutMs: this.deps.ringTimeoutMs,
      logger: log,
      answer: this.deps.answer,
      voicemail: this.deps.voicemail,
      voicemailSettings: settings.voicemailEnabled
        ? {
            greetingUrl: settings.voicemailGreetingUrl,
            maxDurationSeconds: settings.voicemailMaxDuration,
            format: settings.recordingFormat,
          }
        : null,
      voicemailFirst: settings.defaultAnswerBehavior === 'voicemail',
    }).start();
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
