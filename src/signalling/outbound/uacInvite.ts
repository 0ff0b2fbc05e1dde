import { isIP } from 'node:net';
import type { Logger } from 'pino';
import {
  retryAfter422,
  type SessionTimerSettings,
  withTimerOffer,
} from '../sessionTimers/sessionTimerRules.js';
import type { RecordableDialog } from '../sipLegJournal.js';
import type { SipDialog } from '../srfTypes.js';
import {
  challengeHeaders,
  chooseChallenge,
  digestAuthorization,
  type SrfAuth,
  srfAuthFor,
} from './digestAnswer.js';
import type { InviteTarget } from './outboundTrunks.js';

/** An INVITE we sent (srf's Request): its headers as sent, and cancelling it. */
export interface UacRequest {
  /** The SIP server's id of the INVITE's transaction (a CANCEL names it). */
  readonly stackTxnId: string;
  readonly uri: string;
  get(header: string): string | undefined;
  cancel(callback?: (error?: unknown) => void): void;
}

/** An answered outgoing INVITE (srf's Dialog, uac side). */
export interface OutboundDialog extends SipDialog, RecordableDialog {
  readonly remote: { sdp: string; uri: string };
}

export interface InviteOptions {
  localSdp: string;
  headers: Record<string, string>;
  /** srf's answer to challenges: declined for the INVITE itself (UacInvite answers), kept for in-dialog requests. */
  auth?: SrfAuth;
  /** Where the INVITE goes instead of the Request-URI's host: the server that challenged it. */
  proxy?: string;
}

export interface InviteProgress {
  cbRequest(error: unknown, request: UacRequest | undefined): void;
  /** `body` is the SDP of a 183 with early media, when it has one. */
  cbProvisional(response: { status: number; body?: string }): void;
}

/**
 * srf.createUAC as the gateway uses it: resolves with the dialog on 200 OK (srf ACKs it), rejects
 * with an error carrying `status` (and srf's response as `res`) on a final refusal.
 */
export type SendInvite = (
  uri: string,
  options: InviteOptions,
  progress: InviteProgress,
) => Promise<OutboundDialog>;

/** The INVITE got no 2xx: `status` is the final response, null when none came (transport, server). */
export class InviteFailed extends Error {
  override readonly name = 'InviteFailed';
  constructor(
    readonly status: number | null,
    message: string,
    /** The far end's reason phrase, when a final response ended it. */
    readonly reason: string | null = null,
  ) {
    super(message);
  }
}

/** A reason phrase is the far end's text: kept short, and printable. */
const MAX_REASON_LENGTH = 200;

function inviteFailed(error: unknown): InviteFailed {
  const { status, reason, message } = error as { status?: unknown; reason?: unknown; message?: unknown };
  if (typeof status === 'number') {
    const phrase =
      typeof reason === 'string' ? reason.replace(/[^\x20-\x7e]/g, '').slice(0, MAX_REASON_LENGTH) : '';
    return new InviteFailed(status, `${status} ${phrase}`.trim(), phrase || null);
  }
  return new InviteFailed(null, typeof message === 'string' ? message : String(error));
}

/** srf's response on a SipError: what a 401/407 challenge (or a 422's Min-SE) is read from. */
interface FailureResponse {
  status: number;
  source_address?: string;
  source_port?: number;
  get(header: string): string | undefined;
}

function responseOf(error: unknown): FailureResponse | undefined {
  const res = (error as { res?: FailureResponse } | undefined)?.res;
  return res && typeof res.get === 'function' ? res : undefined;
}

function challengeOf(error: unknown): (FailureResponse & { status: 401 | 407 }) | undefined {
  const res = responseOf(error);
  if (!res || (res.status !== 401 && res.status !== 407)) return undefined;
  return res as FailureResponse & { status: 401 | 407 };
}

/** The host of a sip: URI, without brackets. */
function hostOf(uri: string): string {
  const host = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;?]+)/i.exec(uri)?.[1] ?? '';
  return host.replace(/^\[|\]$/g, '');
}

/** The headers that send an INVITE again in the same call: its Call-ID and From tag, CSeq one up. */
function sameCall(sent: UacRequest): Record<string, string> | undefined {
  const cseq = Number.parseInt(sent.get('CSeq') ?? '', 10);
  const callId = sent.get('Call-ID');
  const from = sent.get('From');
  if (!Number.isFinite(cseq) || !callId || !from) return undefined;
  return { From: from, 'Call-ID': callId, CSeq: `${cseq + 1} INVITE` };
}

/** Challenges answered at most per INVITE: the first, and one more only when the answer was stale. */
const MAX_CHALLENGES = 2;

/**
 * One outgoing INVITE through a trunk. `answered` settles once: the dialog on 200 OK, or an
 * InviteFailed. `abandon` gives the call up at any point: CANCEL while no final response has
 * come (held until srf tells us the request went out, if need be), BYE once answered, including a
 * 200 OK that crosses our CANCEL (srf has ACKed it), so a given-up INVITE never leaves a dialog.
 *
 * A 401/407 challenge to the INVITE is answered here, not by srf (whose digest client knows MD5
 * only): the strongest challenge offered (SHA-256, else MD5), the INVITE sent again in the same
 * call (Call-ID, From tag, CSeq + 1) with Authorization / Proxy-Authorization, to the server that
 * challenged when the Request-URI names a host rather than an address. A second challenge is
 * answered only if it says stale=true; any other is the INVITE's final answer.
 *
 * A target with `sessionTimers` offers them (RFC 4028 7.1: Supported: timer, Session-Expires,
 * Min-SE). A 422 to it is answered once, the same way: the INVITE again in the same call with
 * Session-Expires and Min-SE raised to the 422's Min-SE (RFC 4028 7.4), so the caller never sees
 * it; a second 422, or one without a larger Min-SE, is the INVITE's final answer.
 */
export class UacInvite {
  readonly answered: Promise<OutboundDialog>;
  private offer: SessionTimerSettings | undefined;
  private request: UacRequest | undefined;
  private dialog: OutboundDialog | undefined;
  private final = false;
  private abandoned = false;

  constructor(
    send: SendInvite,
    target: InviteTarget,
    localSdp: string,
    progress: { onSent(request: UacRequest): void; onProvisional(status: number, body: string): void },
    private readonly logger: Logger,
  ) {
    this.answered = this.dial(send, target, localSdp, progress).then(
      (dialog) => {
        this.final = true;
        this.dialog = dialog;
        if (this.abandoned) {
          this.bye('answered after the call was given up');
          throw new InviteFailed(null, 'answered after the call was given up');
        }
        return dialog;
      },
      (error: unknown) => {
        this.final = true;
        throw inviteFailed(error);
      },
    );
    // Whoever abandons the INVITE no longer awaits it; its rejection is expected then.
    this.answered.catch(() => undefined);
  }

  private async dial(
    send: SendInvite,
    target: InviteTarget,
    localSdp: string,
    progress: { onSent(request: UacRequest): void; onProvisional(status: number, body: string): void },
  ): Promise<OutboundDialog> {
    const auth = target.auth;
    this.offer = target.sessionTimers;
    const baseHeaders = (): Record<string, string> =>
      this.offer ? withTimerOffer(target.headers, this.offer) : target.headers;
    let options: InviteOptions = {
      localSdp,
      headers: baseHeaders(),
      ...(auth ? { auth: srfAuthFor(auth) } : {}),
    };
    let challenges = 0;
    let raised = false;
    for (;;) {
      try {
        return await send(target.uri, options, {
          cbRequest: (error, request) => {
            if (error || !request) return;
            this.request = request;
            if (this.abandoned) this.cancel();
            else progress.onSent(request);
          },
          cbProvisional: (response) => {
            if (!this.abandoned) progress.onProvisional(response.status, response.body ?? '');
          },
        });
      } catch (error) {
        const sent = this.request;
        const res = responseOf(error);
        if (!res || !sent || this.abandoned) throw error;
        const again = sameCall(sent);
        if (!again) throw error;
        if (res.status === 422 && this.offer && !raised) {
          const seconds = retryAfter422(res.get('Min-SE'), this.offer.expiresSeconds);
          if (seconds === undefined) throw error;
          raised = true;
          this.offer = { ...this.offer, expiresSeconds: seconds, minSeSeconds: seconds };
          this.logger.info(
            { sessionExpires: seconds },
            'INVITE refused 422: sending it again with a longer session interval',
          );
          // A new INVITE: a challenge to it is answered afresh (the old Authorization was for the old one).
          challenges = 0;
          options = {
            localSdp,
            headers: { ...baseHeaders(), ...again },
            ...(options.auth ? { auth: options.auth } : {}),
            ...(options.proxy ? { proxy: options.proxy } : {}),
          };
          this.request = undefined;
          continue;
        }
        const challenge = this.challengeAnswer(error, challenges, target);
        if (!challenge) throw error;
        challenges++;
        options = {
          localSdp,
          headers: { ...baseHeaders(), ...again, ...challenge.headers },
          ...(options.auth ? { auth: options.auth } : {}),
          ...(challenge.proxy ? { proxy: challenge.proxy } : {}),
        };
        // The challenged transaction is over; a CANCEL waits for the new one (cbRequest above).
        this.request = undefined;
      }
    }
  }

  /** The Authorization (or Proxy-Authorization) answering a 401/407, and where to send it. */
  private challengeAnswer(
    error: unknown,
    challenges: number,
    target: InviteTarget,
  ): { headers: Record<string, string>; proxy: string | undefined } | undefined {
    const auth = target.auth;
    const res = challengeOf(error);
    if (!auth || !res || challenges >= MAX_CHALLENGES) return undefined;
    const headers = challengeHeaders(res.status);
    const challenge = chooseChallenge(res.get(headers.challenge));
    if (!challenge || (challenges > 0 && !challenge.stale)) return undefined;
    this.logger.info(
      {
        status: res.status,
        algorithm: challenge.algorithm,
        realm: challenge.realm,
        stale: challenge.stale,
      },
      'INVITE challenged: sending it again with credentials',
    );
    const proxy =
      isIP(hostOf(target.uri)) === 0 && res.source_address && res.source_port
        ? `sip:${isIP(res.source_address) === 6 ? `[${res.source_address}]` : res.source_address}:${res.source_port}${/;transport=[^;?]+/i.exec(target.uri)?.[0] ?? ''}`
        : undefined;
    return {
      headers: {
        [headers.answer]: digestAuthorization(challenge, { method: 'INVITE', uri: target.uri }, auth),
      },
      proxy,
    };
  }

  /** The session timers the last INVITE offered (raised by a 422), undefined for none. */
  get timerOffer(): SessionTimerSettings | undefined {
    return this.offer;
  }

  abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    if (this.dialog) this.bye('call given up after answer');
    else if (!this.final) this.cancel();
  }

  private cancel(): void {
    const request = this.request;
    if (!request || this.final) return;
    try {
      request.cancel((error) => {
        // A CANCEL the server could not send: the INVITE ended meanwhile (its final response
        // settles `answered`) or never got a provisional response (the transaction times out).
        if (error) this.logger.debug({ err: error }, 'CANCEL not sent');
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'CANCEL failed');
    }
  }

  private bye(why: string): void {
    const dialog = this.dialog;
    if (!dialog) return;
    this.logger.info({ sipCallId: dialog.sip.callId }, `BYE: ${why}`);
    Promise.resolve(dialog.destroy()).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'BYE failed'),
    );
  }
}
