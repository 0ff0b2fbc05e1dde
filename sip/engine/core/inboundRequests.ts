import type { AppConnection } from '../apps/AppConnection.js';
import { createResponse } from '../message/createResponse.js';
import { parseCSeq } from '../message/cseq.js';
import type { SipRequest } from '../message/messageTypes.js';
import type { InviteServerTransaction } from '../transaction/inviteServerTransaction.js';
import type { NonInviteServerTransaction } from '../transaction/nonInviteServerTransaction.js';
import type { ServerTransaction } from '../transaction/serverTransaction.js';
import type { MessageSource } from '../transport/transportTypes.js';
import { randomToken } from './appHeaders.js';
import { emitCdr, forwardToApp } from './appReporting.js';
import type { CoreContext } from './coreContext.js';
import type { PendingServerRequest } from './coreTypes.js';
import { tagOf } from './dialogStore.js';
import type { ReliableProvisionals } from './reliableProvisionals.js';

/**
 * Requests from the network: new ones go round-robin to an app routed for the method (503 when none
 * is), in-dialog ones to the app owning the dialog (481 when there is no dialog). CANCEL is answered
 * here (200, and 487 to the INVITE) before the app hears of it; ACKs for 2xx go to the dialog's app.
 */
export class InboundRequests {
  constructor(
    private readonly ctx: CoreContext,
    private readonly reliable: ReliableProvisionals,
  ) {}

  onRequest(request: SipRequest, transaction: ServerTransaction, source: MessageSource): void {
    if (tagOf(request, 'To') !== '') this.inDialog(request, transaction, source);
    else this.outOfDialog(request, transaction, source);
  }

  onCancel(
    cancel: SipRequest,
    cancelTxn: NonInviteServerTransaction,
    inviteTxn: InviteServerTransaction,
    _source: MessageSource,
  ): void {
    const { ctx } = this;
    let pending: PendingServerRequest | undefined;
    for (const p of ctx.serverRequests.values()) {
      if (p.transaction === inviteTxn) {
        pending = p;
        break;
      }
    }
    const toTag = pending?.toTag ?? randomToken(ctx.deps.newId);
    void cancelTxn.respond(createResponse(cancel, 200, { toTag }));
    if (inviteTxn.state !== 'proceeding') return;
    void inviteTxn.respond(createResponse(inviteTxn.request, 487, { toTag }));
    if (!pending) return;
    pending.finalSent = true;
    emitCdr(ctx.deps.registry, 'stop', 'network', cancel, ctx.deps.now(), 'call-canceled');
    if (pending.app.state !== 'closed') {
      forwardToApp(
        pending.app,
        cancel,
        ctx.currentSource ?? pending.source,
        pending.txnId,
        '',
        ctx.deps.now(),
      );
    }
  }

  onAck(ack: SipRequest, source: MessageSource): void {
    const { ctx } = this;
    const dialog = ctx.dialogs.findForRequest(ack);
    if (!dialog) return;
    const awaited = dialog.okRetransmitter?.active === true;
    dialog.okRetransmitter?.acknowledge();
    dialog.okRetransmitter = undefined;
    const txnId = dialog.ackTxnId;
    // Only the first ACK of a 2xx is news to the app; retransmitted ones are absorbed here.
    if (!awaited || txnId === undefined || dialog.app.state === 'closed') return;
    dialog.ackTxnId = undefined;
    forwardToApp(dialog.app, ack, source, txnId, dialog.id, ctx.deps.now());
  }

  /**
   * An app went away: requests it was handed and never answered get a final response now, so no
   * transaction waits forever. Its dialogs stay until they end.
   */
  onAppGone(app: AppConnection): void {
    for (const pending of [...this.ctx.serverRequests.values()]) {
      if (pending.app !== app || pending.finalSent) continue;
      pending.finalSent = true;
      const status = pending.request.method === 'INVITE' ? 480 : 500;
      void pending.transaction.respond(createResponse(pending.request, status, { toTag: pending.toTag }));
    }
  }

  private inDialog(request: SipRequest, transaction: ServerTransaction, source: MessageSource): void {
    const { ctx } = this;
    // RFC 3262: a PRACK in the early dialog of an INVITE we are answering.
    if (request.method === 'PRACK' && this.reliable.onPrack(request, transaction, source)) return;
    const dialog = ctx.dialogs.findForRequest(request);
    if (!dialog) {
      void transaction.respond(createResponse(request, 481));
      return;
    }
    let seq = 0;
    try {
      seq = parseCSeq(request.headers.get('CSeq') ?? '').seq;
    } catch {
      // The parser already validated CSeq; nothing to do.
    }
    // RFC 3261 12.2.2: a CSeq lower than the last one is out of order.
    if (seq <= dialog.remoteCseq && dialog.remoteCseq !== 0) {
      void transaction.respond(createResponse(request, 500, { reason: 'Out of order CSeq' }));
      return;
    }
    dialog.remoteCseq = seq;
    if (request.method === 'BYE') {
      ctx.dialogs.remove(dialog.id);
      emitCdr(ctx.deps.registry, 'stop', 'network', request, ctx.deps.now(), 'normal-release');
    }
    if (dialog.app.state === 'closed') {
      // Nobody to ask: end the call cleanly on a BYE, refuse anything else.
      void transaction.respond(createResponse(request, request.method === 'BYE' ? 200 : 480));
      return;
    }
    const pending = this.register(request, transaction, source, dialog.app, dialog.localTag, dialog.id);
    forwardToApp(dialog.app, request, source, pending.txnId, dialog.id, ctx.deps.now());
  }

  private outOfDialog(request: SipRequest, transaction: ServerTransaction, source: MessageSource): void {
    const { ctx } = this;
    const toTag = randomToken(ctx.deps.newId);
    const app = ctx.deps.registry.pick(request.method);
    if (!app) {
      void transaction.respond(createResponse(request, 503, { toTag, reason: 'No application routed' }));
      return;
    }
    const pending = this.register(request, transaction, source, app, toTag, '');
    if (request.method === 'INVITE')
      emitCdr(ctx.deps.registry, 'attempt', 'network', request, ctx.deps.now());
    forwardToApp(app, request, source, pending.txnId, '', ctx.deps.now());
  }

  private register(
    request: SipRequest,
    transaction: ServerTransaction,
    source: MessageSource,
    app: AppConnection,
    toTag: string,
    dialogId: string,
  ): PendingServerRequest {
    const { ctx } = this;
    const pending: PendingServerRequest = {
      txnId: ctx.deps.newId(),
      request,
      transaction,
      source,
      app,
      toTag,
      dialogId,
      finalSent: false,
    };
    ctx.serverRequests.set(pending.txnId, pending);
    transaction.once('terminated', () => {
      if (ctx.serverRequests.get(pending.txnId) === pending) ctx.serverRequests.delete(pending.txnId);
    });
    return pending;
  }
}
