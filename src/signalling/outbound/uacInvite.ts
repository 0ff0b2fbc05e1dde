import type { Logger } from 'pino';
import type { RecordableDialog } from '../sipLegJournal.js';
import type { SipDialog } from '../srfTypes.js';
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
  auth?: { username: string; password: string };
}

export interface InviteProgress {
  cbRequest(error: unknown, request: UacRequest | undefined): void;
  /** `body` is the SDP of a 183 with early media, when it has one. */
  cbProvisional(response: { status: number; body?: string }): void;
}

/**
 * srf.createUAC as the gateway uses it: resolves with the dialog on 200 OK (srf ACKs it), rejects
 * with an error carrying `status` on a final refusal; srf answers 401/407 with `auth` itself.
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
  ) {
    super(message);
  }
}

function inviteFailed(error: unknown): InviteFailed {
  const { status, reason, message } = error as { status?: unknown; reason?: unknown; message?: unknown };
  if (typeof status === 'number') return new InviteFailed(status, `${status} ${String(reason ?? '')}`.trim());
  return new InviteFailed(null, typeof message === 'string' ? message : String(error));
}

/**
 * One outgoing INVITE through a trunk. `answered` settles once: the dialog on 200 OK, or an
 * InviteFailed. `abandon` gives the call up at any point: CANCEL while no final response has
 * come (held until srf tells us the request went out, if need be), BYE once answered, including a
 * 200 OK that crosses our CANCEL (srf has ACKed it), so a given-up INVITE never leaves a dialog.
 */
export class UacInvite {
  readonly answered: Promise<OutboundDialog>;
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
    const options: InviteOptions = {
      localSdp,
      headers: target.headers,
      ...(target.auth ? { auth: target.auth } : {}),
    };
    let sent: Promise<OutboundDialog>;
    try {
      sent = send(target.uri, options, {
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
      sent = Promise.reject(error);
    }
    this.answered = sent.then(
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
