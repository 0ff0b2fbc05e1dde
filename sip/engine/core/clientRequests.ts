import { createResponse } from '../message/createResponse.js';
import { parseCSeq } from '../message/cseq.js';
import type { SipResponse } from '../message/messageTypes.js';
import { dialogIdOf } from '../wire/sipMeta.js';
import { emitCdr, forwardToApp } from './appReporting.js';
import type { CoreContext } from './coreContext.js';
import type { PendingClientRequest } from './coreTypes.js';
import { tagOf } from './dialogStore.js';
import type { Dialog } from './dialogTypes.js';
import { uriOf } from './nextHop.js';

/** What the client side needs from the dialog side (kept as an interface to avoid a cycle). */
export interface DialogHooks {
  /** The app that sent the INVITE is gone: confirm and end the dialog ourselves. */
  ackAndBye(dialog: Dialog): void;
  /** Resend the ACK for a retransmitted 2xx. */
  resendAck(dialog: Dialog): void;
}

/**
 * Follows the client transactions of requests sent for apps and reports every response to the
 * app with the txnId it was given, as drachtio-server does; creates the UAC dialog on a 2xx to INVITE.
 */
export class ClientRequests {
  constructor(
    private readonly ctx: CoreContext,
    private readonly hooks: DialogHooks,
  ) {}

  track(pending: PendingClientRequest): void {
    const { ctx } = this;
    const { txnId, transaction } = pending;
    ctx.clientRequests.set(txnId, pending);
    transaction.on('response', (res) => this.onResponse(pending, res));
    transaction.once('timeout', () => this.synthesize(pending, 408));
    transaction.once('transportError', () => this.synthesize(pending, 503));
    transaction.once('terminated', () => {
      if (ctx.clientRequests.get(txnId) === pending) ctx.clientRequests.delete(txnId);
      const dialog = pending.dialogId === '' ? undefined : ctx.dialogs.get(pending.dialogId);
      if (dialog?.pendingReinvite === pending) dialog.pendingReinvite = undefined;
    });
  }

  private onResponse(pending: PendingClientRequest, res: SipResponse): void {
    const { ctx } = this;
    const method = pending.request.method;
    if (res.status === 100) return;
    let dialogId = pending.dialogId;
    if (method === 'INVITE') {
      const callId = res.headers.get('Call-ID') ?? '';
      dialogId = dialogIdOf(callId, tagOf(pending.request, 'From'));
      if (res.status < 200 && res.headers.has('RSeq') && tagOf(res, 'To') !== '') {
        // RFC 3262 4: a reliable provisional whose RSeq is not one up from the last is a
        // retransmission (or out of order): not PRACKed again, not processed further.
        const rseq = Number.parseInt(res.headers.get('RSeq') ?? '', 10);
        const toTag = tagOf(res, 'To');
        pending.lastRSeq ??= new Map();
        const last = pending.lastRSeq.get(toTag);
        if (last !== undefined && rseq !== last + 1) return;
        pending.lastRSeq.set(toTag, rseq);
        const contact = res.headers.get('Contact');
        pending.early = {
          remoteParty: res.headers.get('To') ?? '',
          remoteTarget: contact ? uriOf(contact) : pending.request.uri,
          routeSet: res.headers.getAll('Record-Route').reverse(),
        };
      }
      if (res.status >= 200 && res.status < 300) {
        const handled = this.onInviteOk(pending, res, dialogId);
        if (handled) return;
      } else if (res.status >= 300) {
        const dialog = ctx.dialogs.get(dialogId);
        if (dialog?.pendingReinvite === pending) dialog.pendingReinvite = undefined;
        if (pending.dialogId === '') {
          emitCdr(ctx.deps.registry, 'stop', 'network', res, ctx.deps.now(), 'call-rejected');
        }
      }
    }
    this.forward(pending, res, dialogId);
  }

  /** Returns true when the 2xx was absorbed (a retransmission) and must not reach the app. */
  private onInviteOk(pending: PendingClientRequest, res: SipResponse, dialogId: string): boolean {
    const { ctx } = this;
    const cseq = parseCSeq(pending.request.headers.get('CSeq') ?? '1 INVITE').seq;
    let dialog = ctx.dialogs.get(dialogId);
    if (dialog?.lastAck?.cseq === cseq) {
      this.hooks.resendAck(dialog);
      return true;
    }
    if (dialog?.okCseq === cseq) return true; // retransmitted before the app ACKed
    const contact = res.headers.get('Contact');
    if (!dialog) {
      const destination = pending.transaction.destination;
      const fromValue = pending.request.headers.get('From') ?? '';
      dialog = {
        id: dialogId,
        role: 'uac',
        callId: res.headers.get('Call-ID') ?? '',
        localTag: tagOf(pending.request, 'From'),
        remoteTag: tagOf(res, 'To'),
        localParty: fromValue,
        remoteParty: res.headers.get('To') ?? '',
        remoteTarget: contact ? uriOf(contact) : pending.request.uri,
        routeSet: res.headers.getAll('Record-Route').reverse(),
        // A PRACK sent in the early dialog used the CSeq after the INVITE's.
        localCseq: Math.max(cseq, pending.earlyCseq ?? 0),
        remoteCseq: 0,
        transport: destination.transport,
        localContact: pending.request.headers.get('Contact') ?? '',
        app: pending.app,
        lastInviteCseq: cseq,
      };
      if (destination.connectionId !== undefined) dialog.connectionId = destination.connectionId;
      ctx.dialogs.add(dialog);
      emitCdr(ctx.deps.registry, 'start', 'network', res, ctx.deps.now(), 'uac');
    } else if (contact) {
      dialog.remoteTarget = uriOf(contact);
    }
    dialog.okCseq = cseq;
    if (dialog.pendingReinvite === pending) dialog.pendingReinvite = undefined;
    if (pending.app.state === 'closed') {
      this.hooks.ackAndBye(dialog);
      return true;
    }
    return false;
  }

  private forward(pending: PendingClientRequest, res: SipResponse, dialogId: string): void {
    if (pending.app.state === 'closed') return;
    const { ctx } = this;
    const dest = pending.transaction.destination;
    const source = ctx.currentSource ?? {
      transport: dest.transport,
      address: dest.address,
      port: dest.port,
      localAddress: '',
      localPort: 0,
    };
    forwardToApp(pending.app, res, source, pending.txnId, dialogId, ctx.deps.now());
  }

  /** The transaction failed without a response: tell the app as drachtio-server does, with a final. */
  private synthesize(pending: PendingClientRequest, status: number): void {
    const res = createResponse(pending.request, status);
    const dialogId =
      pending.request.method === 'INVITE'
        ? dialogIdOf(res.headers.get('Call-ID') ?? '', tagOf(pending.request, 'From'))
        : pending.dialogId;
    const saved = this.ctx.currentSource;
    this.ctx.currentSource = undefined;
    this.forward(pending, res, dialogId);
    this.ctx.currentSource = saved;
  }
}
