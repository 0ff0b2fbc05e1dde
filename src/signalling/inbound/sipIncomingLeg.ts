import type { Logger } from 'pino';
import type { SessionTimer } from '../sessionTimers/dialogSessionTimer.js';
import { SipDialogLeg } from '../sipDialogLeg.js';
import type { SipLegJournal } from '../sipLegJournal.js';
import type { CreateUas } from '../srfAdapters.js';
import type { InboundRequest, InboundResponse } from '../srfTypes.js';
import { reliableProvisionalHeaders } from './reliableProvisional.js';
import { refuse } from './sipRefusal.js';

export interface SipIncomingLegDeps {
  createUas: CreateUas;
  /** Writes the leg down (ringing, then answered), so a crash does not leave the caller hanging. */
  journal?: SipLegJournal | undefined;
  logger: Logger;
  /** The session timer (RFC 4028) the 200 OK grants: its headers, then the dialog runs it. */
  sessionTimer?: SessionTimer | undefined;
}

/**
 * An INVITE taken by the gateway, as a call's incoming leg: 180, 183 with early media, 200 OK
 * (the dialog then becomes a SipDialogLeg, written down in the leg journal) or a final refusal
 * with a Reason header.
 */
export class SipIncomingLeg {
  constructor(
    private readonly req: InboundRequest,
    private readonly res: InboundResponse,
    private readonly deps: SipIncomingLegDeps,
  ) {}

  get offer(): string | null {
    return this.req.body || null;
  }

  belongsTo(callId: string): void {
    this.deps.journal?.inbound(callId, this.req);
  }

  ring(): void {
    const headers = reliableProvisionalHeaders(this.req);
    if (headers) this.res.send(180, undefined, { headers });
    else this.res.send(180);
  }

  earlyMedia(localSdp: string): void {
    const headers = reliableProvisionalHeaders(this.req);
    this.res.send(183, undefined, { body: localSdp, ...(headers ? { headers } : {}) });
  }

  answer(localSdp: string): Promise<SipDialogLeg> {
    return new Promise((resolve, reject) => {
      const timer = this.deps.sessionTimer;
      this.deps.createUas(
        this.req,
        this.res,
        localSdp,
        (error, dialog) => {
          if (error || !dialog) {
            reject(error ?? new Error('the SIP server made no dialog'));
            return;
          }
          const leg = new SipDialogLeg(
            dialog,
            this.deps.logger,
            timer ? { ...timer, role: 'uas' } : undefined,
          );
          this.deps.journal?.answered(dialog);
          resolve(leg);
        },
        timer?.headers,
      );
    });
  }

  refuse(status: number, why: string, headers: Record<string, string> = {}): void {
    refuse(this.res, status, why, headers);
  }

  onCancel(listener: () => void): void {
    this.req.on('cancel', listener);
  }
}
