import type { Logger } from 'pino';
import type { SipLegStore, StoredLeg } from '../store/sipLegStore.js';

/** Why the far end is hung up, in the BYE or final response (RFC 3326). */
export const RESTART_REASON = 'Q.850;cause=41;text="gateway restarted"';

/** What ending another process's legs needs from the SIP server connection (srfLegActions). */
export interface LegActions {
  /** BYE in a dialog the SIP server still holds; rejects if it holds no such dialog. Resolves once sent. */
  byeInDialog(dialogId: string, headers: Record<string, string>): Promise<void>;
  /** A request built here from the stored dialog, for a SIP server that lost the dialog too. */
  requestOutOfDialog(
    uri: string,
    method: string,
    headers: Record<string, string>,
    nextHop: string | undefined,
  ): Promise<void>;
  /** A final response to an INVITE the SIP server still waits on. */
  respond(txnId: string, status: number, reason: string, headers: Record<string, string>): void;
  /** CANCEL of an INVITE we sent that has no final response. */
  cancel(txnId: string, uri: string): Promise<void>;
}

function uriOf(nameAddr: string): string {
  return /<([^>]+)>/.exec(nameAddr)?.[1] ?? nameAddr.split(';')[0]?.trim() ?? nameAddr;
}

function withTransport(uri: string, transport: string): string {
  if (transport === 'udp' || /;transport=/i.test(uri)) return uri;
  return `${uri};transport=${transport}`;
}

/**
 * Ends the SIP legs a previous gateway process left behind (kill -9, crash, power cut): a BYE
 * for each answered leg, a 480 for an inbound INVITE still ringing, a CANCEL for an outbound one.
 * A leg's record goes once its leg is dealt with, so a second crash mid-sweep leaves the rest for
 * the next start. Runs once the SIP server connection is up.
 */
export class OrphanedLegs {
  constructor(
    private readonly store: SipLegStore,
    private readonly actions: LegActions,
    private readonly logger: Logger,
  ) {}

  /** The legs there are to end: read before this process starts any of its own. */
  find(): Promise<StoredLeg[]> {
    return this.store.all();
  }

  async end(legs: readonly StoredLeg[]): Promise<void> {
    await Promise.all(legs.map((leg) => this.endOne(leg)));
  }

  private async endOne(leg: StoredLeg): Promise<void> {
    const log = this.logger.child({ callId: leg.callId, sipCallId: leg.sipCallId, role: leg.role });
    try {
      if (leg.dialog) await this.bye(leg, log);
      else if (leg.role === 'uas') {
        this.actions.respond(leg.txnId, 480, 'Temporarily Unavailable', { Reason: RESTART_REASON });
        log.info('480 to a call left ringing by the previous gateway process');
      } else {
        await this.actions.cancel(leg.txnId, leg.requestUri);
        log.info('CANCEL of a call left dialing by the previous gateway process');
      }
    } catch (error) {
      // Already over at the far end or at the SIP server: nothing is left to end.
      log.info({ err: (error as Error).message }, 'leg left by the previous gateway process already gone');
    }
    // Awaited so the sweep is over when its records are; a record left stays for the next start.
    await this.store
      .write([this.store.removeStatement(leg.role, leg.sipCallId)])
      .catch((error: unknown) => log.warn({ err: error }, 'could not forget a leg that was ended'));
  }

  private async bye(leg: StoredLeg, log: Logger): Promise<void> {
    const dialog = leg.dialog;
    if (!dialog) return;
    try {
      await this.actions.byeInDialog(dialog.dialogId, { Reason: RESTART_REASON });
      log.info('BYE to a call left answered by the previous gateway process');
      return;
    } catch (error) {
      log.info(
        { err: (error as Error).message },
        'the SIP server no longer holds the dialog; sending BYE from the stored dialog',
      );
    }
    // RFC 3261 12.2.1.1: request-URI the remote target, Route the route set (loose routing).
    const firstRoute = dialog.routeSet[0];
    const nextHop = firstRoute && /;lr\b/i.test(firstRoute) ? uriOf(firstRoute) : undefined;
    await this.actions.requestOutOfDialog(
      withTransport(dialog.remoteTarget, dialog.transport),
      'BYE',
      {
        'Call-ID': leg.sipCallId,
        From: dialog.localParty,
        To: dialog.remoteParty,
        CSeq: `${dialog.localCseq + 1} BYE`,
        Reason: RESTART_REASON,
        ...(dialog.routeSet.length > 0 ? { Route: dialog.routeSet.join(', ') } : {}),
      },
      nextHop,
    );
    log.info('BYE to a call left answered by the previous gateway process');
  }
}
