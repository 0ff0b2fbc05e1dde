import type { AppConnection } from '../apps/AppConnection.js';
import { parseCSeq } from '../message/cseq.js';
import type { SipRequest } from '../message/messageTypes.js';
import { formatNameAddr, parseNameAddr } from '../message/nameAddr.js';
import { SipHeaders } from '../message/sipHeaders.js';
import { formatHostPort } from '../message/sipUri.js';
import { InviteClientTransaction } from '../transaction/inviteClientTransaction.js';
import { generateBranch } from '../transaction/requestBuilders.js';
import { addTopVia, contactUri } from '../transport/outgoingHeaders.js';
import type { Destination } from '../transport/transportTypes.js';
import { dialogIdOf } from '../wire/sipMeta.js';
import type { SipCommand } from '../wire/wireTypes.js';
import { copyAppHeaders, defaultContentType, randomToken } from './appHeaders.js';
import { emitCdr, sentMetaOf } from './appReporting.js';
import type { ClientRequests } from './clientRequests.js';
import type { CoreContext } from './coreContext.js';
import type { PendingClientRequest } from './coreTypes.js';
import { tagOf } from './dialogStore.js';
import { destinationForUri } from './nextHop.js';

/** Methods whose requests carry our Contact (they create dialogs or refresh targets). */
const WITH_CONTACT: ReadonlySet<string> = new Set([
  'INVITE',
  'SUBSCRIBE',
  'REFER',
  'NOTIFY',
  'UPDATE',
  'OPTIONS',
]);

/**
 * New requests from apps outside any dialog (`sip||` with a real request-URI): the engine picks
 * the transport, fills Via, From (tag), To, Call-ID, CSeq, Max-Forwards and Contact, sends the
 * request in a client transaction and acknowledges it with its txnId. Also CANCELs for such INVITEs.
 */
export class AppRequests {
  constructor(
    private readonly ctx: CoreContext,
    private readonly clients: ClientRequests,
  ) {}

  handle(app: AppConnection, command: SipCommand, message: SipRequest): void {
    if (message.method === 'CANCEL') {
      void this.cancel(app, command);
      return;
    }
    if (message.method === 'ACK') {
      // An ACK outside a dialog: srf ACKing a failed INVITE the transaction layer has ACKed already.
      app.reject(command.msgId, 'ACK for a non-2xx is sent by the server');
      return;
    }
    void this.send(app, command, message);
  }

  private async cancel(app: AppConnection, command: SipCommand): Promise<void> {
    const pending = this.ctx.clientRequests.get(command.txnId);
    if (!pending || !(pending.transaction instanceof InviteClientTransaction)) {
      app.reject(command.msgId, 'unknown transaction');
      return;
    }
    pending.canceled = true;
    const cancelTxn = await this.ctx.deps.transactions.sendCancel(pending.transaction);
    if (!cancelTxn) {
      app.reject(command.msgId, 'transaction is no longer cancelable');
      return;
    }
    const outcome = await cancelTxn.sent;
    if (!outcome.ok) {
      app.reject(command.msgId, outcome.error.message);
      return;
    }
    const raw = outcome.result.data.toString('utf8');
    app.ackRequestSent(
      command.msgId,
      sentMetaOf(raw, outcome.result, this.ctx.deps.now()),
      this.ctx.deps.newId(),
      raw,
    );
  }

  private async send(app: AppConnection, command: SipCommand, message: SipRequest): Promise<void> {
    const { ctx } = this;
    const { transport, transactions } = ctx.deps;
    let destination: Destination;
    let request: SipRequest;
    try {
      const nextHop = command.routeUrl !== '' ? command.routeUrl : message.uri;
      destination = destinationForUri(nextHop.replace(/^<|>$/g, ''));
      const sentBy = transport.sentBy(destination.transport, destination.address);
      request = this.build(message, destination, sentBy);
    } catch (err) {
      app.reject(command.msgId, `cannot send request: ${(err as Error).message}`);
      return;
    }
    let transaction: PendingClientRequest['transaction'];
    try {
      transaction = transactions.sendRequest(request, destination);
    } catch (err) {
      app.reject(command.msgId, (err as Error).message);
      return;
    }
    const pending: PendingClientRequest = {
      txnId: ctx.deps.newId(),
      request,
      transaction,
      app,
      dialogId: '',
      canceled: false,
    };
    this.clients.track(pending);
    if (request.method === 'INVITE')
      emitCdr(ctx.deps.registry, 'attempt', 'application', request, ctx.deps.now());
    const outcome = await transaction.sent;
    if (!outcome.ok) {
      app.reject(command.msgId, outcome.error.message);
      return;
    }
    const raw = outcome.result.data.toString('utf8');
    app.ackRequestSent(command.msgId, sentMetaOf(raw, outcome.result, ctx.deps.now()), pending.txnId, raw);
  }

  private build(
    message: SipRequest,
    destination: Destination,
    sentBy: { host: string; port: number },
  ): SipRequest {
    const { newId } = this.ctx.deps;
    const method = message.method;
    const local = formatHostPort(sentBy.host, sentBy.port);
    // srf writes `@localhost` when it does not know our address; drachtio-server substitutes it.
    const localize = (value: string): string => value.replace(/@localhost\b/gi, `@${local}`);

    const fromText = message.headers.get('From');
    const from = parseNameAddr(fromText === undefined ? `<sip:${local}>` : localize(fromText));
    if (!from.params.get('tag')) from.params.set('tag', randomToken(newId));
    const to = message.headers.get('To') ?? `<${message.uri}>`;
    const callId = message.headers.get('Call-ID') ?? newId();
    const cseqText = message.headers.get('CSeq');
    const seq = cseqText === undefined ? 1 : parseCSeq(cseqText).seq;

    const headers = new SipHeaders()
      .append('Max-Forwards', message.headers.get('Max-Forwards') ?? '70')
      .append('From', formatNameAddr(from))
      .append('To', to)
      .append('Call-ID', callId)
      .append('CSeq', `${seq} ${method}`);
    const appContact = message.headers.get('Contact');
    if (appContact !== undefined) headers.append('Contact', localize(appContact));
    else if (WITH_CONTACT.has(method)) {
      const user = /^sips?:([^@;>]+)@/i.exec(from.uri)?.[1];
      headers.append('Contact', `<${contactUri(sentBy, destination.transport, user)}>`);
    }
    const request: SipRequest = { kind: 'request', method, uri: message.uri, headers, body: message.body };
    copyAppHeaders(message, headers, ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Contact']);
    defaultContentType(request);
    addTopVia(request, destination.transport, sentBy, generateBranch());
    return request;
  }
}

/** The dialog id an out-of-dialog request of ours would create (we are the UAC). */
export function uacDialogId(request: SipRequest): string {
  return dialogIdOf(request.headers.get('Call-ID') ?? '', tagOf(request, 'From'));
}
