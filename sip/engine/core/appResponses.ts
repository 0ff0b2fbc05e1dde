import type { AppConnection } from '../apps/AppConnection.js';
import { createResponse } from '../message/createResponse.js';
import type { SipResponse } from '../message/messageTypes.js';
import { OkRetransmitter } from '../transaction/okRetransmitter.js';
import { contactUri } from '../transport/outgoingHeaders.js';
import { dialogIdOf } from '../wire/sipMeta.js';
import type { SipCommand } from '../wire/wireTypes.js';
import { copyAppHeaders, defaultContentType } from './appHeaders.js';
import { emitCdr, sentMetaOf } from './appReporting.js';
import type { CoreContext } from './coreContext.js';
import type { PendingServerRequest } from './coreTypes.js';
import type { DialogRequests } from './dialogRequests.js';
import { tagOf } from './dialogStore.js';
import type { Dialog } from './dialogTypes.js';
import { uriOf } from './nextHop.js';
import type { ReliableProvisionals } from './reliableProvisionals.js';

/** Headers of a response the server owns: copied from the request, or not the app's to set. */
const RESPONSE_OWNED = ['From', 'To', 'Call-ID', 'CSeq', 'Route', 'Record-Route', 'RSeq'];

/**
 * An app's response to a network request (`sip|<txnId>|` with a status line). The engine completes
 * it from the request, sends it through the server transaction, acknowledges it with the message as
 * sent, and for a 2xx to INVITE confirms the dialog and retransmits the 2xx until the ACK.
 */
export class AppResponses {
  constructor(
    private readonly ctx: CoreContext,
    private readonly dialogRequests: DialogRequests,
    private readonly reliable: ReliableProvisionals,
  ) {}

  async handle(app: AppConnection, command: SipCommand, message: SipResponse): Promise<void> {
    const { ctx } = this;
    const pending = ctx.serverRequests.get(command.txnId);
    if (!pending) {
      app.reject(command.msgId, 'unknown transaction');
      return;
    }
    if (pending.finalSent) {
      app.reject(command.msgId, 'transaction already completed');
      return;
    }
    const { request, transaction } = pending;
    const status = message.status;
    // The app may choose the To-tag on its first response (srf's res.send with a To header).
    const appTag = tagOf(message, 'To');
    if (appTag !== '' && pending.dialogId === '' && !transaction.finalResponse) pending.toTag = appTag;
    const response = createResponse(request, status, {
      reason: message.reason,
      toTag: pending.toTag,
      body: message.body,
    });
    copyAppHeaders(message, response.headers, RESPONSE_OWNED);
    const method = request.method;
    const source = pending.source;
    // RFC 3261 12.1.1: a dialog-creating response echoes the Record-Route of the request, so the
    // proxies that asked to stay in the path see the UAC's later requests.
    if ((method === 'INVITE' || method === 'SUBSCRIBE') && status > 100 && status < 300) {
      for (const rr of request.headers.lineValues('Record-Route'))
        response.headers.append('Record-Route', rr);
    }
    if ((method === 'INVITE' || method === 'SUBSCRIBE') && status > 100 && status < 300) {
      if (!response.headers.has('Contact')) {
        try {
          const sentBy = ctx.deps.transport.sentBy(source.transport, source.address);
          response.headers.append('Contact', `<${contactUri(sentBy, source.transport)}>`);
        } catch {
          // No listener of that transport (cannot happen for a request that arrived on one).
        }
      }
    }
    defaultContentType(response);
    if (status >= 200) pending.finalSent = true;
    const reliable = this.reliable.wants(pending, response);
    const send = (): Promise<void> => this.deliver(app, command, pending, response, reliable);
    // RFC 3262 3: no second reliable provisional, and no 2xx, while one is unacknowledged.
    if ((reliable || (status >= 200 && status < 300)) && this.reliable.busy(pending)) {
      this.reliable.enqueue(pending, send, (reason) => app.reject(command.msgId, reason));
      return;
    }
    await send();
  }

  private async deliver(
    app: AppConnection,
    command: SipCommand,
    pending: PendingServerRequest,
    response: SipResponse,
    reliable: boolean,
  ): Promise<void> {
    const { ctx } = this;
    const { request, transaction } = pending;
    const status = response.status;
    const method = request.method;
    const rseq = reliable ? this.reliable.stamp(pending, response) : 0;
    const outcome = await transaction.respond(response);
    if (reliable) {
      if (outcome.ok) this.reliable.sent(pending, response, rseq);
      else this.reliable.notSent(pending);
    }
    if (!outcome.ok) {
      if (status >= 200) pending.finalSent = transaction.finalResponse !== undefined;
      app.reject(command.msgId, outcome.error.message);
      return;
    }
    const isInitialInvite = method === 'INVITE' && pending.dialogId === '';
    const dialogId = isInitialInvite
      ? dialogIdOf(request.headers.get('Call-ID') ?? '', tagOf(request, 'From'))
      : pending.dialogId;
    const raw = outcome.result.data.toString('utf8');
    app.ackResponseSent(
      command.msgId,
      sentMetaOf(raw, outcome.result, ctx.deps.now()),
      pending.txnId,
      dialogId,
      raw,
    );

    if (method === 'INVITE' && status >= 200 && status < 300) this.confirm(pending, response, dialogId);
    else if (isInitialInvite && status >= 300) {
      emitCdr(ctx.deps.registry, 'stop', 'application', response, ctx.deps.now(), 'call-rejected');
    }
  }

  /** A 2xx to INVITE went out: create (or refresh) the dialog and wait for the ACK. */
  private confirm(pending: PendingServerRequest, response: SipResponse, dialogId: string): void {
    const { ctx } = this;
    const { request, source } = pending;
    let dialog = ctx.dialogs.get(dialogId);
    const contact = request.headers.get('Contact');
    if (!dialog) {
      dialog = {
        id: dialogId,
        role: 'uas',
        callId: request.headers.get('Call-ID') ?? '',
        localTag: pending.toTag,
        remoteTag: tagOf(request, 'From'),
        localParty: response.headers.get('To') ?? '',
        remoteParty: request.headers.get('From') ?? '',
        remoteTarget: contact ? uriOf(contact) : request.uri,
        routeSet: request.headers.getAll('Record-Route'),
        localCseq: 0,
        remoteCseq: Number.parseInt(request.headers.get('CSeq') ?? '0', 10) || 0,
        transport: source.transport,
        localContact: response.headers.get('Contact') ?? '',
        app: pending.app,
        lastInviteCseq: 0,
      };
      if (source.connectionId !== undefined) dialog.connectionId = source.connectionId;
      ctx.dialogs.add(dialog);
      emitCdr(ctx.deps.registry, 'start', 'application', response, ctx.deps.now(), 'uas');
    } else if (contact) {
      dialog.remoteTarget = uriOf(contact);
    }
    this.awaitAck(dialog, pending, response);
  }

  private awaitAck(dialog: Dialog, pending: PendingServerRequest, response: SipResponse): void {
    const { ctx } = this;
    dialog.okRetransmitter?.stop();
    dialog.ackTxnId = pending.txnId;
    const destination = pending.transaction.destination;
    const retransmitter = new OkRetransmitter({
      resend: () => void ctx.deps.transactions.sendStateless(response, destination),
      reliable: pending.transaction.reliable,
      timers: ctx.deps.transactions.timers,
      onTimeout: () => {
        if (dialog.okRetransmitter !== retransmitter) return;
        dialog.okRetransmitter = undefined;
        if (ctx.dialogs.get(dialog.id) === dialog) this.dialogRequests.sendEngineBye(dialog, 'ACK timeout');
      },
    });
    dialog.okRetransmitter = retransmitter;
    retransmitter.start();
  }
}
