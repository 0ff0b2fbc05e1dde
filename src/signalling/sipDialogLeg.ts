import type { Logger } from 'pino';
import { parseSipInfoDtmf } from '../media/dtmf/sipInfoDtmf.js';
import {
  DialogSessionTimer,
  type RefreshAnswer,
  type SessionRefresh,
  type SessionTimer,
} from './sessionTimers/dialogSessionTimer.js';
import { refreshHeaders } from './sessionTimers/sessionTimerRules.js';
import { type ReferDialog, SipDialogTransfers } from './sipTransfer.js';
import type { InboundResponse, SipDialog } from './srfTypes.js';

/** The far end's BYE, for the headers some carry (Meta's x-wa-meta-call-duration). */
export interface FarEndBye {
  header(name: string): string | undefined;
  /**
   * Set when no BYE came: the session timer (RFC 4028) ran out, and the gateway sent the BYE
   * (the call ends `session_expired`).
   */
  sessionExpired?: true;
}

/** A session expired by its timer, reported to the ended listeners like a BYE without headers. */
const SESSION_EXPIRED: FarEndBye = { header: () => undefined, sessionExpired: true };

const DTMF_TYPES = /^application\/dtmf(-relay)?\s*(;|$)/i;

type OfferAnswerer = (offer: string) => Promise<string>;
type DigitListener = (digit: string, durationMs: number | null) => void;

/**
 * An established SIP dialog (inbound UAS or outbound UAC) as a call's answered leg.
 *
 * It listens to the dialog from the moment it exists and keeps what comes before the call
 * listens: srf hands the dialog over a few microtasks after the 200 OK (or its ACK) went, and an
 * ACK read in one TCP chunk with a re-INVITE or INFO would otherwise meet a dialog nobody
 * listens to (srf then answers the re-INVITE itself with the old SDP, or drops the INFO).
 *
 * In-dialog requests: a re-INVITE goes to the call's answerer (200 with its SDP, 488 when it
 * refuses, logged once here); an INFO carrying a DTMF digit (`application/dtmf-relay`
 * "Signal=5\r\nDuration=160", or `application/dtmf` "5") gets 200 and goes to the digit listener;
 * an INFO without a body (a keep-alive) 200; an unreadable DTMF body 400; any other body 415.
 */
export class SipDialogLeg {
  private farEndEnded: boolean;
  private hungUp = false;
  private readonly endedListeners: ((bye?: FarEndBye) => void)[] = [];
  private bye: FarEndBye | undefined;
  private answerer: OfferAnswerer | undefined;
  private readonly pendingOffers: { offer: string; res: InboundResponse }[] = [];
  private digitListener: DigitListener | undefined;
  private readonly pendingDigits: [string, number | null][] = [];
  /** REFER both ways (sipTransfer.ts): absent when the dialog cannot send in-dialog requests. */
  readonly transfers: SipDialogTransfers | undefined;
  /** The RFC 4028 session timer, when the answer set one up; stopped on every end. */
  private readonly sessionTimer: DialogSessionTimer | undefined;
  private expired = false;
  /** Our SDP in our last answer to a far end's offer (srf's dialog.local keeps the first one). */
  private lastLocalSdp: string | undefined;

  constructor(
    private readonly dialog: SipDialog,
    private readonly logger: Logger,
    session?: SessionTimer,
  ) {
    // A BYE that came before this leg was made has ended the dialog already.
    this.farEndEnded = dialog.connected === false;
    dialog.on('destroy', (request?: { get(name: string): string | undefined }) =>
      this.ended(request ? { header: (name: string) => request.get(name) } : undefined),
    );
    dialog.on('modify', (req, res) => {
      this.sessionTimer?.refreshed();
      this.offered(req.body, res);
    });
    // UPDATE (RFC 3311): a session refresh without SDP gets 200; one with an offer goes to the
    // answerer like a re-INVITE.
    dialog.on('update', (req, res) => {
      this.sessionTimer?.refreshed();
      if (req.body) this.offered(req.body, res);
      else res.send(200, undefined, this.timerHeaders ? { headers: this.timerHeaders } : {});
    });
    dialog.on('info', (req, res) => {
      const digit = this.infoDigit(req.get('Content-Type') ?? '', req.body, res);
      if (digit) this.digit(digit.digit, digit.durationMs ?? null);
    });
    this.transfers = dialog.request ? new SipDialogTransfers(dialog as ReferDialog, logger) : undefined;
    this.sessionTimer =
      session && !this.farEndEnded
        ? new DialogSessionTimer(
            session,
            { refresh: (refresh) => this.refreshSession(refresh), expire: () => this.sessionExpired() },
            logger,
          )
        : undefined;
  }

  /** Session-Expires (and Require) of our answers to the far end's refreshes, as the timer now runs. */
  private get timerHeaders(): Record<string, string> | undefined {
    return this.sessionTimer?.answerHeaders;
  }

  get connected(): boolean {
    return !this.farEndEnded && !this.hungUp && this.dialog.connected !== false;
  }

  hangup(): Promise<void> {
    this.sessionTimer?.stop();
    if (this.farEndEnded || this.hungUp) return Promise.resolve();
    this.hungUp = true;
    return Promise.resolve(this.dialog.destroy()).then(() => undefined);
  }

  onEnded(listener: (bye?: FarEndBye) => void): void {
    if (this.farEndEnded) listener(this.bye);
    else if (this.expired) listener(SESSION_EXPIRED);
    else this.endedListeners.push(listener);
  }

  onOffer(answer: OfferAnswerer): void {
    this.answerer = answer;
    for (const { offer, res } of this.pendingOffers.splice(0)) this.answerOffer(answer, offer, res);
  }

  onDtmf(listener: DigitListener): void {
    this.digitListener = listener;
    for (const [digit, durationMs] of this.pendingDigits.splice(0)) listener(digit, durationMs);
  }

  private ended(bye?: FarEndBye): void {
    this.sessionTimer?.stop();
    if (this.farEndEnded || this.hungUp) return;
    this.farEndEnded = true;
    this.bye = bye;
    for (const listener of this.endedListeners.splice(0)) listener(bye);
  }

  private offered(offer: string, res: InboundResponse): void {
    if (this.answerer) this.answerOffer(this.answerer, offer, res);
    else this.pendingOffers.push({ offer, res });
  }

  /**
   * Our refresh (RFC 4028 10): an UPDATE without SDP, or a re-INVITE with our last SDP. Sent as a
   * plain in-dialog request rather than srf's modify, whose failure carries the status only: a
   * 422's Min-SE is what the timer retries with. Resolves with the final response.
   */
  private async refreshSession(refresh: SessionRefresh): Promise<RefreshAnswer> {
    if (!this.dialog.request) throw new Error('the dialog cannot send in-dialog requests');
    const headers = refreshHeaders(refresh.seconds, refresh.minSeSeconds);
    const contact = this.dialog.local?.contact;
    if (contact) headers.Contact = contact;
    let body: string | undefined;
    if (refresh.method === 'INVITE') {
      body = this.lastLocalSdp ?? this.dialog.local?.sdp;
      if (!body) throw new Error('no SDP of ours to refresh the session with');
      headers['Content-Type'] = 'application/sdp';
    }
    const res = await this.dialog.request({ method: refresh.method, headers, ...(body ? { body } : {}) });
    return { status: res.status, minSe: res.get?.('Min-SE') };
  }

  /** The session timer ran out: BYE, and the call hears of it as its leg's end. */
  private sessionExpired(): void {
    if (this.farEndEnded || this.hungUp) return;
    this.hungUp = true;
    this.expired = true;
    Promise.resolve(this.dialog.destroy()).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'BYE of an expired session failed'),
    );
    for (const listener of this.endedListeners.splice(0)) listener(SESSION_EXPIRED);
  }

  private answerOffer(answer: OfferAnswerer, offer: string, res: InboundResponse): void {
    answer(offer).then(
      (localSdp) => {
        this.lastLocalSdp = localSdp;
        res.send(200, undefined, {
          body: localSdp,
          ...(this.timerHeaders ? { headers: this.timerHeaders } : {}),
        });
      },
      (error: unknown) => {
        this.logger.warn({ err: error }, 're-INVITE not acceptable');
        res.send(488);
      },
    );
  }

  private digit(digit: string, durationMs: number | null): void {
    if (this.digitListener) this.digitListener(digit, durationMs);
    else this.pendingDigits.push([digit, durationMs]);
  }

  /** Answers the INFO; returns its digit when it carried one. */
  private infoDigit(contentType: string, body: string, res: InboundResponse) {
    if (!body) {
      res.send(200);
      return undefined;
    }
    const dtmf = parseSipInfoDtmf(contentType, body);
    if (!dtmf) {
      if (DTMF_TYPES.test(contentType.trim())) res.send(400);
      else res.send(415, undefined, { headers: { Accept: 'application/dtmf-relay, application/dtmf' } });
      return undefined;
    }
    res.send(200);
    return dtmf;
  }
}
