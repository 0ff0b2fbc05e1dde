import type { Logger } from 'pino';
import { E164 } from '../../config/sipSchema.js';
import type { IncomingRefer, ReferOutcome } from '../../signalling/sipTransfer.js';
import { BridgedCall } from '../bridgedCall.js';
import { CallCommandError, DialFailed } from '../callErrors.js';
import type { CallRegistry } from '../callRegistry.js';
import type { CallService } from '../callService.js';
import type { Call } from '../callTypes.js';
import { reportDtmf } from '../dtmfReporter.js';
import type { DialedLeg, DialRequest } from '../outbound/outboundDialer.js';
import { reportParticipants } from '../participantReporter.js';
import { dialableUser } from './transferTarget.js';

/** Events of a transfer, beside the call's own status events. */
export const TRANSFER_EVENTS = {
  requested: 'calls.transfer.requested',
  completed: 'calls.transfer.completed',
  failed: 'calls.transfer.failed',
} as const;

export interface CallTransfersDeps {
  calls: CallService;
  registry: CallRegistry;
  /** Dials the target of a REFER from the far end into the call's room (OutboundDialer). */
  dialer: { canDial(appId: string): boolean; dial(request: DialRequest): Promise<DialedLeg> };
  /** The app's outbound trunk: its name, and the Request-URI it gives a number (Refer-To of an E.164 target). */
  trunks: {
    trunkOf(appId: string): string | undefined;
    inviteFor(appId: string, from: string, to: string): { uri: string } | undefined;
  };
  /** sip.trunks[].allowTransfer of the named trunk (false for one that does not exist). */
  allowsTransfer(trunk: string): boolean;
  /** sip.ringTimeoutSeconds: how long a REFER's target may ring. */
  ringTimeoutSeconds: number;
  /** How long our REFER may wait for its final NOTIFY; default 30 s. */
  notifyTimeoutMs?: number;
  /** After a 2xx sipfrag, how long the far end has to send its BYE before we send ours; default 2 s. */
  byeGraceMs?: number;
  logger: Logger;
}

/** Who asked for a transfer: the API (an action), a call flow's verb, or the far end (its REFER). */
export type TransferInitiator = 'api' | 'flow' | 'far_end';

/**
 * Call transfer by REFER, both ways, on an answered call's SIP leg.
 *
 * Ours (`transfer`, for the transfer action and verb): REFER to the target (an E.164 number is
 * addressed as the app's outbound trunk addresses its INVITEs), Referred-By our URI of the dialog;
 * `calls.transfer.requested` at once, then `calls.transfer.completed` on a 2xx sipfrag, after
 * which the call ends as `transferred` (the far end's BYE, or ours after `byeGraceMs`), or
 * `calls.transfer.failed` with the SIP status (REFER refused, failure sipfrag, no final NOTIFY)
 * and the call goes on.
 *
 * Theirs (a PBX on the trunk transferring our call): refused 403 unless the call's trunk has
 * `allowTransfer`; else 202, NOTIFY 100, the Refer-To number dialled through the app's outbound
 * trunk into the call's room, NOTIFY with the outcome, and on answer the new leg becomes the
 * call's leg and the old one gets its BYE. The same three events tell the control plane.
 */
export class CallTransfers {
  private readonly incoming = new Set<string>();
  private legs = 0;

  constructor(private readonly deps: CallTransfersDeps) {}

  /** Listens for answered calls, to take REFERs from their far ends. */
  watch(): void {
    this.deps.calls.on('transition', (call) => {
      // The bridge is set up in the same turn as the transition that announces it.
      if (call.status === 'in_progress') setImmediate(() => this.attach(call.id));
    });
  }

  /**
   * Sends REFER on the call's SIP leg. Throws CallCommandError: conflict when the call is not
   * answered, has no SIP leg (WhatsApp, Graph mode) or a transfer is pending; invalid_request
   * naming `to` when an E.164 target has no trunk to address it. Resolves (outcome) once it is known.
   */
  transfer(call: Call, to: string, by: Exclude<TransferInitiator, 'far_end'>): Promise<ReferOutcome> {
    const live = this.deps.registry.get(call.id);
    const bridged = live?.answeredControl;
    if (call.status !== 'in_progress' || !live || live.phase !== 'answered') {
      throw new CallCommandError('conflict', `call ${call.id} is ${call.status} and not answered`);
    }
    // A browser call (no SIP leg), a WhatsApp one (Meta takes no REFER; Graph mode has no dialog).
    const transfers = bridged instanceof BridgedCall ? bridged.leg.transfers : undefined;
    if (
      !(bridged instanceof BridgedCall) ||
      !transfers ||
      call.fromChannel === 'whatsapp' ||
      call.toChannel === 'whatsapp'
    ) {
      throw new CallCommandError('conflict', `call ${call.id} has no SIP leg that can be transferred`);
    }
    if (transfers.busy || this.incoming.has(call.id)) {
      throw new CallCommandError('conflict', `call ${call.id} has a transfer pending`);
    }
    const referTo = this.referTarget(call, to);
    const transfer = { to, referTo, by };
    const log = this.deps.logger.child({ callId: call.id, transferTo: to });
    this.deps.calls.appendEvent(call.id, TRANSFER_EVENTS.requested, { transfer });
    log.info({ referTo }, 'transfer: REFER sent');
    return transfers.refer({ referTo, timeoutMs: this.deps.notifyTimeoutMs ?? 30_000 }).then((outcome) => {
      if (outcome.result === 'completed') {
        this.deps.calls.appendEvent(call.id, TRANSFER_EVENTS.completed, {
          transfer: { ...transfer, status: outcome.status },
        });
        log.info({ status: outcome.status }, 'transfer completed');
        bridged.transferSucceeded();
        const timer = setTimeout(() => bridged.hangup('transferred'), this.deps.byeGraceMs ?? 2000);
        live?.own(() => clearTimeout(timer));
      } else if (!this.deps.calls.get(call.id)) {
        // The call ended meanwhile (the far end hung up without a final NOTIFY): nothing to report.
        log.info({ stage: outcome.stage }, 'transfer outcome after the call ended');
      } else {
        this.deps.calls.appendEvent(call.id, TRANSFER_EVENTS.failed, {
          transfer: { ...transfer, status: outcome.status, stage: outcome.stage, reason: outcome.reason },
        });
        log.info({ status: outcome.status, stage: outcome.stage, reason: outcome.reason }, 'transfer failed');
      }
      return outcome;
    });
  }

  /** The Refer-To of a target: a SIP URI as given, an E.164 number at the app's outbound trunk. */
  private referTarget(call: Call, to: string): string {
    if (!E164.test(to)) return to;
    const uri = this.deps.trunks.inviteFor(call.appId, to, to)?.uri;
    if (!uri) {
      throw new CallCommandError('invalid_request', 'the transfer target cannot be addressed', [
        {
          field: 'to',
          message: `app ${call.appId} has no outbound trunk to address a number through (sip.apps); give a sip: URI`,
        },
      ]);
    }
    return uri;
  }

  /** Takes REFERs on the call's current leg. */
  private attach(callId: string): void {
    const bridged = this.deps.registry.get(callId)?.answeredControl;
    if (!(bridged instanceof BridgedCall)) return;
    bridged.leg.transfers?.onRefer((refer) => this.referred(callId, refer));
  }

  private referred(callId: string, refer: IncomingRefer): void {
    const { deps } = this;
    const call = deps.calls.get(callId);
    const live = deps.registry.get(callId);
    const log = deps.logger.child({ callId, referTo: refer.referTo });
    const refuse = (status: number, reason: string, why: string): void => {
      refer.refuse(status, reason);
      log.info({ status, why }, 'REFER from the far end refused');
      deps.calls.appendEvent(callId, TRANSFER_EVENTS.failed, {
        transfer: { referTo: refer.referTo, by: 'far_end', status, stage: 'refer', reason: why },
      });
    };
    if (!call || !live || call.status !== 'in_progress') {
      refer.refuse(481, 'Call Does Not Exist');
      return;
    }
    const trunk =
      call.direction === 'inbound' ? String(call.metadata.trunk ?? '') : deps.trunks.trunkOf(call.appId);
    if (!trunk || !deps.allowsTransfer(trunk)) {
      refuse(
        403,
        'Transfer Not Allowed',
        `trunk ${trunk ?? '(none)'} does not allow transfers (allowTransfer)`,
      );
      return;
    }
    if (this.incoming.has(callId)) {
      refer.refuse(491, 'Request Pending');
      return;
    }
    const number = dialableUser(refer.referTo);
    if (!number) {
      refuse(403, 'Transfer Target Not Allowed', 'the Refer-To is not a number to dial through the trunk');
      return;
    }
    if (!deps.dialer.canDial(call.appId) || !call.livekitRoomName) {
      refuse(
        403,
        'Transfer Not Allowed',
        `app ${call.appId} has no outbound trunk to dial the target through`,
      );
      return;
    }
    const notifier = refer.accept();
    this.incoming.add(callId);
    const transfer = { to: number, referTo: refer.referTo, by: 'far_end' as const };
    deps.calls.appendEvent(callId, TRANSFER_EVENTS.requested, {
      transfer: { ...transfer, ...(refer.referredBy ? { referredBy: refer.referredBy } : {}) },
    });
    log.info({ number }, 'REFER from the far end: dialling the target');
    const controller = new AbortController();
    live.own(() => controller.abort());
    deps.dialer
      .dial({
        appId: call.appId,
        from: E164.test(call.fromAddress) ? call.fromAddress : call.toAddress,
        to: number,
        roomName: call.livekitRoomName,
        identity: `sip_${callId}_transfer_${++this.legs}`,
        callId,
        ringTimeoutMs: deps.ringTimeoutSeconds * 1000,
        signal: controller.signal,
      })
      .then(
        async (dialed) => {
          const bridged = live.answeredControl;
          if (controller.signal.aborted || !(bridged instanceof BridgedCall)) {
            // The call ended while the target answered: nothing to hand it to.
            await dialed.leg.hangup().catch(() => undefined);
            if (!dialed.session.closed) void dialed.session.close('normal');
            return;
          }
          await notifier.notify(200, 'OK');
          deps.calls.appendEvent(callId, TRANSFER_EVENTS.completed, {
            transfer: { ...transfer, status: 200 },
          });
          reportParticipants(dialed.session, deps.calls, callId);
          reportDtmf(dialed.session, deps.calls, callId);
          log.info({ sipCallId: dialed.sipCallId }, 'transfer target answered: the call goes on on its leg');
          await bridged.handOver(dialed.leg, dialed.session);
          this.attach(callId);
        },
        (error: unknown) => {
          const status =
            error instanceof DialFailed
              ? (error.sipStatus ??
                (error.outcome === 'ring_timeout' ? 408 : error.outcome === 'canceled' ? 487 : 503))
              : 500;
          const reason = error instanceof DialFailed ? (error.sipReason ?? error.outcome) : 'Server Error';
          void notifier.notify(status, sipfragReason(reason));
          deps.calls.appendEvent(callId, TRANSFER_EVENTS.failed, {
            transfer: { ...transfer, status, stage: 'notify', reason: (error as Error).message },
          });
          log.info({ status, err: error }, 'transfer target not reached: the call goes on');
        },
      )
      .finally(() => this.incoming.delete(callId));
  }
}

/** A reason phrase safe in a sipfrag's status line. */
function sipfragReason(reason: string): string {
  return reason.replace(/[\r\n]+/g, ' ').slice(0, 100) || 'Failed';
}
