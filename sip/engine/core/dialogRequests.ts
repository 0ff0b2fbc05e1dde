import type { AppConnection } from '../apps/AppConnection.js';
import { parseCSeq } from '../message/cseq.js';
import type { SipRequest, SipResponse } from '../message/messageTypes.js';
import { SipHeaders } from '../message/sipHeaders.js';
import type { ClientTransaction } from '../transaction/clientTransaction.js';
import { generateBranch } from '../transaction/requestBuilders.js';
import { addTopVia } from '../transport/outgoingHeaders.js';
import type { Destination } from '../transport/transportTypes.js';
import { UNSOLICITED_TXN_ID } from '../wire/serverMessages.js';
import type { SipCommand } from '../wire/wireTypes.js';
import { copyAppHeaders, defaultContentType } from './appHeaders.js';
import { emitCdr, sentMetaOf } from './appReporting.js';
import { uacDialogId } from './appRequests.js';
import type { DialogHooks } from './clientRequests.js';
import type { CoreContext } from './coreContext.js';
import type { PendingClientRequest, PendingInvite } from './coreTypes.js';
import { tagOf } from './dialogStore.js';
import type { Dialog } from './dialogTypes.js';
import { destinationForUri, inDialogNextHop } from './nextHop.js';

/** Resolves when the transaction gets a final response or ends, or after `ms`; leaves nothing behind. */
function finalOrTimeout(txn: ClientTransaction, ms: number): Promise<void> {
  if (txn.state === 'completed' || txn.state === 'accepted' || txn.state === 'terminated') {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      txn.off('response', onResponse);
      txn.off('terminated', done);
      resolve();
    };
    const onResponse = (res: SipResponse): void => {
      if (res.status >= 200) done();
    };
    const timer = setTimeout(done, ms);
    txn.on('response', onResponse);
    txn.on('terminated', done);
  });
}

/** Headers the dialog decides for requests sent inside it; the app's values are ignored. */
const DIALOG_OWNED = ['From', 'To', 'Call-ID', 'CSeq', 'Route', 'Max-Forwards'];
/** Requests that refresh the remote target and so carry our Contact (RFC 3261 12.2.1.1, RFC 3311). */
const TARGET_REFRESH: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/**
 * Requests inside a dialog: those apps send (`sip||<dialogId>`, request-URI a placeholder the engine
 * replaces with the remote target), the ACK for a 2xx, and the BYE the engine sends on its own when
 * no ACK arrives.
 */
export class DialogRequests implements DialogHooks {
  constructor(
    private readonly ctx: CoreContext,
    private readonly track: (pending: PendingClientRequest) => void,
  ) {}

  handleApp(app: AppConnection, command: SipCommand, message: SipRequest): void {
    const dialog = this.ctx.dialogs.get(command.dialogId);
    if (!dialog && message.method === 'PRACK') {
      void this.earlyPrack(app, command, message);
      return;
    }
    if (!dialog) {
      app.reject(command.msgId, 'unable to find dialog');
      return;
    }
    if (message.method === 'ACK') this.appAck(app, command, message, dialog);
    else void this.appRequest(app, command, message, dialog);
  }

  resendAck(dialog: Dialog): void {
    const ack = dialog.lastAck;
    if (ack) void this.ctx.deps.transactions.sendStateless(ack.request, ack.destination);
  }

  ackAndBye(dialog: Dialog): void {
    const built = this.build(dialog, 'ACK', undefined, dialog.okCseq ?? dialog.lastInviteCseq);
    if (built) void this.ctx.deps.transactions.sendStateless(built.request, built.destination);
    this.sendEngineBye(dialog, 'application gone', false);
  }

  /**
   * Ends a dialog on the engine's own account (RFC 3261 13.3.1.4: no ACK for our 2xx) and tells the
   * owning app with an `unsolicited` BYE, which srf turns into the dialog's `destroy` event.
   */
  sendEngineBye(dialog: Dialog, reasonText: string, report = true): void {
    const { ctx } = this;
    dialog.localCseq++;
    const built = this.build(dialog, 'BYE', undefined, dialog.localCseq);
    ctx.dialogs.remove(dialog.id);
    if (!built) return;
    built.request.headers.append('Reason', `SIP ;cause=200 ;text="${reasonText}"`);
    const txn = ctx.deps.transactions.sendRequest(built.request, built.destination);
    emitCdr(
      ctx.deps.registry,
      'stop',
      'application',
      built.request,
      ctx.deps.now(),
      'system-initiated-termination',
    );
    void txn.sent.then((outcome) => {
      if (!outcome.ok || !report || dialog.app.state === 'closed') return;
      const rawSip = outcome.result.data.toString('utf8');
      dialog.app.sendSip({
        meta: sentMetaOf(rawSip, outcome.result, ctx.deps.now()),
        txnId: UNSOLICITED_TXN_ID,
        dialogId: dialog.id,
        rawSip,
      });
    });
  }

  /**
   * A request within the dialog: request-URI is the remote target, Route the route set, From/To our
   * and their tagged parties, and the given CSeq. App headers and body are carried over.
   */
  build(
    dialog: Dialog,
    method: string,
    appMessage: SipRequest | undefined,
    cseq: number,
  ): { request: SipRequest; destination: Destination } | undefined {
    const { transport } = this.ctx.deps;
    let destination: Destination;
    let sentBy: { host: string; port: number };
    try {
      destination = destinationForUri(
        inDialogNextHop(dialog.routeSet, dialog.remoteTarget),
        dialog.transport,
      );
      sentBy = transport.sentBy(destination.transport, destination.address);
    } catch (err) {
      this.ctx.deps.logger.warn(
        { dialog: dialog.id, err: (err as Error).message },
        'no route for in-dialog request',
      );
      return undefined;
    }
    if (dialog.connectionId !== undefined && destination.transport === dialog.transport) {
      destination.connectionId = dialog.connectionId;
    }
    const headers = new SipHeaders()
      .append('Max-Forwards', '70')
      .append('From', dialog.localParty)
      .append('To', dialog.remoteParty)
      .append('Call-ID', dialog.callId)
      .append('CSeq', `${cseq} ${method}`);
    for (const route of dialog.routeSet) headers.append('Route', route);
    const request: SipRequest = {
      kind: 'request',
      method,
      uri: dialog.remoteTarget,
      headers,
      body: appMessage?.body ?? Buffer.alloc(0),
    };
    if (appMessage) copyAppHeaders(appMessage, headers, DIALOG_OWNED);
    if (TARGET_REFRESH.has(method) && !headers.has('Contact') && dialog.localContact !== '') {
      headers.append('Contact', dialog.localContact);
    }
    defaultContentType(request);
    addTopVia(request, destination.transport, sentBy, generateBranch());
    return { request, destination };
  }

  /**
   * srf PRACKs a reliable provisional to our INVITE (RFC 3262) before any 2xx, so in the early
   * dialog that provisional set up: request-URI its Contact, To its tag, Route its Record-Route
   * reversed, CSeq the next after the INVITE's.
   */
  private async earlyPrack(app: AppConnection, command: SipCommand, message: SipRequest): Promise<void> {
    const { ctx } = this;
    let invite: PendingClientRequest | undefined;
    for (const pending of ctx.clientRequests.values()) {
      if (
        pending.request.method === 'INVITE' &&
        pending.dialogId === '' &&
        pending.early !== undefined &&
        uacDialogId(pending.request) === command.dialogId
      ) {
        invite = pending;
      }
    }
    const early = invite?.early;
    if (!invite || !early) {
      app.reject(command.msgId, 'unable to find dialog');
      return;
    }
    const inviteCseq = parseCSeq(invite.request.headers.get('CSeq') ?? '1 INVITE').seq;
    const cseq = Math.max(inviteCseq, invite.earlyCseq ?? 0) + 1;
    invite.earlyCseq = cseq;
    const destination = invite.transaction.destination;
    const earlyDialog: Dialog = {
      id: command.dialogId,
      role: 'uac',
      callId: invite.request.headers.get('Call-ID') ?? '',
      localTag: tagOf(invite.request, 'From'),
      remoteTag: '',
      localParty: invite.request.headers.get('From') ?? '',
      remoteParty: early.remoteParty,
      remoteTarget: early.remoteTarget,
      routeSet: early.routeSet,
      localCseq: cseq,
      remoteCseq: 0,
      transport: destination.transport,
      localContact: invite.request.headers.get('Contact') ?? '',
      app,
      lastInviteCseq: inviteCseq,
    };
    if (destination.connectionId !== undefined) earlyDialog.connectionId = destination.connectionId;
    const built = this.build(earlyDialog, 'PRACK', message, cseq);
    if (!built) {
      app.reject(command.msgId, 'no route for PRACK');
      return;
    }
    let transaction: ClientTransaction;
    try {
      transaction = ctx.deps.transactions.sendRequest(built.request, built.destination);
    } catch (err) {
      app.reject(command.msgId, (err as Error).message);
      return;
    }
    const outcome = await transaction.sent;
    if (!outcome.ok) {
      app.reject(command.msgId, outcome.error.message);
      return;
    }
    const raw = outcome.result.data.toString('utf8');
    app.ackRequestSent(command.msgId, sentMetaOf(raw, outcome.result, ctx.deps.now()), ctx.deps.newId(), raw);
  }

  private appAck(app: AppConnection, command: SipCommand, message: SipRequest, dialog: Dialog): void {
    const { ctx } = this;
    // srf ACKs every final response to its INVITE; only a 2xx needs an ACK from us (the
    // transaction layer ACKed the others), so anything else is refused quietly.
    if (dialog.okCseq === undefined || dialog.okCseq !== dialog.lastInviteCseq) {
      app.reject(command.msgId, 'no 2xx awaiting an ACK in this dialog');
      return;
    }
    const built = this.build(dialog, 'ACK', message, dialog.okCseq);
    if (!built) {
      app.reject(command.msgId, 'no route for ACK');
      return;
    }
    built.request.headers.remove('Contact');
    dialog.lastAck = { request: built.request, destination: built.destination, cseq: dialog.okCseq };
    void ctx.deps.transactions.sendStateless(built.request, built.destination).then((outcome) => {
      if (!outcome.ok) {
        app.reject(command.msgId, outcome.error.message);
        return;
      }
      const raw = outcome.result.data.toString('utf8');
      app.ackRequestSent(
        command.msgId,
        sentMetaOf(raw, outcome.result, ctx.deps.now()),
        ctx.deps.newId(),
        raw,
      );
    });
  }

  private async appRequest(
    app: AppConnection,
    command: SipCommand,
    message: SipRequest,
    dialog: Dialog,
  ): Promise<void> {
    const { ctx } = this;
    const method = message.method;
    if (method === 'BYE' && dialog.pendingReinvite) {
      // A BYE while our re-INVITE is unanswered: cancel the re-INVITE first, as drachtio-server does.
      // After a provisional the CANCEL goes out at once, ahead of the BYE; before one, RFC 3261 9.1
      // makes the CANCEL wait, and the BYE does not wait with it.
      const reinvite = dialog.pendingReinvite;
      reinvite.canceled = true;
      const cancel = ctx.deps.transactions.sendCancel(reinvite.transaction);
      if (reinvite.transaction.state === 'proceeding') {
        await cancel;
        // Let the re-INVITE end (487) before the BYE, so the peer never sees a BYE racing its own
        // answer to the CANCEL; a peer that never answers delays the BYE by at most T2.
        await finalOrTimeout(reinvite.transaction, ctx.deps.transactions.timers.T2);
      }
    }
    const cseq = ++dialog.localCseq;
    const built = this.build(dialog, method, message, cseq);
    if (!built) {
      app.reject(command.msgId, 'no route for in-dialog request');
      return;
    }
    let transaction: PendingClientRequest['transaction'];
    try {
      transaction = ctx.deps.transactions.sendRequest(built.request, built.destination);
    } catch (err) {
      app.reject(command.msgId, (err as Error).message);
      return;
    }
    const pending: PendingClientRequest = {
      txnId: ctx.deps.newId(),
      request: built.request,
      transaction,
      app,
      dialogId: dialog.id,
      canceled: false,
    };
    this.track(pending);
    if (method === 'INVITE') {
      dialog.lastInviteCseq = cseq;
      dialog.pendingReinvite = pending as PendingInvite;
    }
    if (method === 'BYE') {
      ctx.dialogs.remove(dialog.id);
      emitCdr(ctx.deps.registry, 'stop', 'application', built.request, ctx.deps.now(), 'normal-release');
    }
    const outcome = await transaction.sent;
    if (!outcome.ok) {
      app.reject(command.msgId, outcome.error.message);
      return;
    }
    const raw = outcome.result.data.toString('utf8');
    app.ackRequestSent(command.msgId, sentMetaOf(raw, outcome.result, ctx.deps.now()), pending.txnId, raw);
  }
}
