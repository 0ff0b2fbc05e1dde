import type { Logger } from 'pino';
import type { CallRooms } from '../../livekit/callRooms.js';
import type { MediaKeying } from '../../media/srtp/srtpTypes.js';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { CreatedSession, CreateSessionRequest } from '../../media/workers/workerPoolTypes.js';
import { refusalKind } from '../../signalling/outbound/finalResponses.js';
import type { InviteTarget, OutboundTrunks } from '../../signalling/outbound/outboundTrunks.js';
import {
  InviteFailed,
  type OutboundDialog,
  type SendInvite,
  UacInvite,
} from '../../signalling/outbound/uacInvite.js';
import { outboundSessionTimer } from '../../signalling/sessionTimers/outboundSessionTimer.js';
import type { SessionTimerSettings } from '../../signalling/sessionTimers/sessionTimerRules.js';
import { SipDialogLeg } from '../../signalling/sipDialogLeg.js';
import type { SipLegJournal } from '../../signalling/sipLegJournal.js';
import { DialFailed, type DialOutcome } from '../callErrors.js';
import { keyingOf } from '../legMedia.js';
import type { AnsweredLeg } from '../legs/callLeg.js';
import { joinRoom, SIP_CALL_STATUS, sipAttributes, updateCallStatus } from '../roomJoin.js';

export interface DialRequest {
  /** Whose trunk the call goes out through (`sip.apps[].outboundTrunk`). */
  appId: string;
  /** pstn (the app's trunk, the default) or whatsapp (Meta's edge, from a business number). */
  channel?: 'pstn' | 'whatsapp';
  /** E.164 caller id and called number. */
  from: string;
  to: string;
  /** The room the answered leg joins (it is not created here). */
  roomName: string;
  /** The leg's participant identity: `sip_<call id>` for a call's own leg. */
  identity: string;
  /** Added to (or overriding) sip.callId, sip.from, sip.to, sip.trunk and sip.direction. */
  attributes?: Record<string, string>;
  /** Gives up (CANCEL) when no 2xx came this long after the INVITE went out. */
  ringTimeoutMs: number;
  /** The call this leg belongs to: in logs, the media worker and `sip.callId`. */
  callId: string;
  /** Aborting gives the dial up at once: CANCEL while ringing, BYE if answered meanwhile. */
  signal?: AbortSignal;
  /** Called once, on the first 18x (180 Ringing, 183 Session Progress). */
  onRinging?: () => void;
  /** Called once the INVITE is out, with its SIP Call-ID. */
  onInviteSent?: (sipCallId: string) => void;
  /** Called once the leg's media session exists, before it joins the room (to follow its events). */
  onSession?: (session: MediaSession) => void;
}

/** A connected leg: answered, its media session carrying the far end's answer, in the room. */
export interface DialedLeg {
  leg: AnsweredLeg;
  session: MediaSession;
  trunk: string;
  sipCallId: string;
  /** How the answered leg's media is keyed. */
  encryption: MediaKeying;
}

export interface OutboundDialerDeps {
  trunks: OutboundTrunks;
  /** srf.createUAC. */
  invite: SendInvite;
  media: { createSession(request: CreateSessionRequest): Promise<CreatedSession> };
  rooms: Pick<CallRooms, 'tokens' | 'connection'> & Partial<Pick<CallRooms, 'setParticipantAttributes'>>;
  logger: Logger;
  /** Writes each leg down, so a crash does not leave the callee on the line. */
  legs?: SipLegJournal | undefined;
  /** RFC 4028 session timers our PSTN INVITEs offer; undefined: none (sip.sessionTimers.enabled false). */
  sessionTimers?: SessionTimerSettings | undefined;
}

/** The first reason to give a dial up; every await of the dial races it. */
class Stop {
  private failure: DialFailed | undefined;
  private rejectFired: (failure: DialFailed) => void = () => undefined;
  private readonly firing = new Promise<never>((_resolve, reject) => {
    this.rejectFired = reject;
  });

  constructor() {
    this.firing.catch(() => undefined);
  }

  fire(outcome: DialOutcome, message: string): void {
    if (this.failure) return;
    this.failure = new DialFailed(outcome, null, message);
    this.rejectFired(this.failure);
  }

  check(): void {
    if (this.failure) throw this.failure;
  }

  get fired(): boolean {
    return this.failure !== undefined;
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([this.firing, work]);
  }
}

/**
 * Places one SIP leg through an app's PSTN trunk and bridges it into a room: a media session
 * makes the SDP offer, the INVITE goes out (digest challenges answered by srf), and while it rings
 * the session already joins the room, so the callee's first words are not clipped at answer. On
 * 2xx the far end's answer is applied and the leg is returned once it is in the room.
 *
 * Every other way out rejects with one DialFailed and leaves nothing behind: the INVITE is
 * cancelled (or a 200 that crosses the CANCEL is ACKed and BYEd), the media session closed. The
 * room and the call record are the caller's: a call's own leg (OutboundCall) and a flow's bridge
 * verb use the same dialer.
 */
export class OutboundDialer {
  constructor(private readonly deps: OutboundDialerDeps) {}

  /** Whether the app has an outbound trunk to dial through. */
  canDial(appId: string): boolean {
    return this.deps.trunks.trunkOf(appId) !== undefined;
  }

  /** Whether `from` is one of the app's WhatsApp business numbers, with an edge to call through. */
  canDialWhatsApp(appId: string, from: string): boolean {
    return this.deps.trunks.whatsappInviteFor(appId, from, from) !== undefined;
  }

  /** A PSTN INVITE offers session timers when they are on (never WhatsApp's: Meta's edge has none). */
  private withSessionTimers(target: InviteTarget | undefined): InviteTarget | undefined {
    const timers = this.deps.sessionTimers;
    return target && timers ? { ...target, sessionTimers: timers } : target;
  }

  async dial(request: DialRequest): Promise<DialedLeg> {
    const target =
      request.channel === 'whatsapp'
        ? this.deps.trunks.whatsappInviteFor(request.appId, request.from, request.to)
        : this.withSessionTimers(this.deps.trunks.inviteFor(request.appId, request.from, request.to));
    if (!target) {
      throw new DialFailed('trunk_error', null, `app ${request.appId} has no outbound trunk (sip.apps)`);
    }
    const log = this.deps.logger.child({ callId: request.callId, trunk: target.trunk });
    const stop = new Stop();
    const onAbort = (): void => stop.fire('canceled', 'the dial was given up');
    request.signal?.addEventListener('abort', onAbort, { once: true });
    if (request.signal?.aborted) onAbort();
    const onSessionClosed = (): void => stop.fire('media_error', 'the media session ended while dialing');
    let session: MediaSession | undefined;
    let invite: UacInvite | undefined;
    let ringTimer: NodeJS.Timeout | undefined;
    let sentCallId: string | undefined;
    try {
      stop.check();
      let created: CreatedSession;
      try {
        // Not raced: a session created after giving up would be nobody's to close.
        created = await this.deps.media.createSession({
          remoteOffer: null,
          callId: request.callId,
          ...(target.encryption ? { encryption: target.encryption } : {}),
        });
      } catch (error) {
        throw new DialFailed('media_error', null, `no media session: ${(error as Error).message}`);
      }
      session = created.session;
      stop.check();
      session.once('closed', onSessionClosed);
      request.onSession?.(session);
      const joined = joinRoom(this.deps.rooms, session, {
        roomName: request.roomName,
        identity: request.identity,
        attributes: {
          [SIP_CALL_STATUS]: 'dialing',
          ...sipAttributes({
            callId: request.callId,
            from: request.from,
            to: request.to,
            trunk: target.trunk,
            direction: 'outbound',
          }),
          ...request.attributes,
        },
      }).catch((error: unknown) =>
        stop.fire('media_error', `could not join room ${request.roomName}: ${(error as Error).message}`),
      );

      /** sip.callStatus changes, in order: each waits for the one before. */
      let callStatus: Promise<void> = joined;
      let rang = false;
      let early = false;
      invite = new UacInvite(
        this.deps.invite,
        target,
        created.localSdp,
        {
          onSent: (sent) => {
            sentCallId = sent.get('Call-ID') ?? '';
            this.deps.legs?.outbound(request.callId, sent);
            request.onInviteSent?.(sentCallId);
          },
          onProvisional: (status, body) => {
            if (!early && status >= 180 && body.includes('m=audio')) {
              // Early media (ringback, carrier announcements): heard in the room before the answer.
              early = true;
              session
                ?.applyRemoteAnswer(body, { provisional: true })
                .catch((error: unknown) => log.warn({ err: error }, 'early media SDP not applied'));
            }
            if (status < 180 || rang) return;
            rang = true;
            // After the join (and its 'dialing'), and before the answer's 'active'.
            callStatus = callStatus.then(() =>
              stop.fired ? undefined : updateCallStatus(this.deps.rooms, request, 'ringing', log),
            );
            request.onRinging?.();
          },
        },
        log,
      );
      ringTimer = setTimeout(
        () => stop.fire('ring_timeout', `no answer within ${request.ringTimeoutMs} ms`),
        request.ringTimeoutMs,
      );
      let dialog: OutboundDialog;
      try {
        dialog = await stop.race(invite.answered);
      } catch (error) {
        stop.check();
        if (!(error instanceof InviteFailed)) throw error;
        if (error.status === null) throw new DialFailed('trunk_error', null, error.message);
        throw new DialFailed(refusalKind(error.status), error.status, error.message, error.reason);
      }
      clearTimeout(ringTimer);
      // From here on the leg keeps whatever the callee sends (a BYE while joining the room), and
      // runs the session timer its 2xx granted, if any (RFC 4028 7.2).
      const offered = invite.timerOffer;
      const timer = offered ? outboundSessionTimer(dialog.res, offered) : undefined;
      if (timer) log.info({ seconds: timer.seconds, refresher: timer.refresher }, 'session timer granted');
      const leg = new SipDialogLeg(dialog, log, timer);
      this.deps.legs?.answered(dialog);
      let encryption: MediaKeying;
      try {
        encryption = keyingOf((await stop.race(session.applyRemoteAnswer(dialog.remote.sdp))).media);
      } catch (error) {
        stop.check();
        // A BYE follows (the catch below ends the leg); the reason is logged with the outcome.
        throw new DialFailed('media_error', null, `the far end's answer: ${(error as Error).message}`);
      }
      await stop.race(joined);
      stop.check();
      session.off('closed', onSessionClosed);
      // The participant joined while ringing, before the answer said how media is keyed.
      callStatus = callStatus.then(() =>
        updateCallStatus(this.deps.rooms, request, 'active', log, { 'sip.mediaEncryption': encryption }),
      );
      log.info({ sipCallId: dialog.sip.callId, encryption }, 'outbound leg answered');
      return { leg, session, trunk: target.trunk, sipCallId: dialog.sip.callId, encryption };
    } catch (error) {
      clearTimeout(ringTimer);
      invite?.abandon();
      if (sentCallId !== undefined) this.deps.legs?.legEnded('uac', sentCallId);
      if (session) {
        session.off('closed', onSessionClosed);
        if (!session.closed) void session.close('normal');
      }
      const failed =
        error instanceof DialFailed ? error : new DialFailed('media_error', null, (error as Error).message);
      log.info(
        { outcome: failed.outcome, sipStatus: failed.sipStatus, reason: failed.message },
        'outbound leg not connected',
      );
      throw failed;
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }
}
