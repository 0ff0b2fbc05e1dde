import { randomUUID } from 'node:crypto';
import type { AppConnection } from '../apps/AppConnection.js';
import type { SipMessage } from '../message/messageTypes.js';
import type { SipParseError } from '../message/sipParseError.js';
import { TransactionLayer } from '../transaction/transactionLayer.js';
import type { MessageSource } from '../transport/transportTypes.js';
import type { ProxyCommand, SipCommand } from '../wire/wireTypes.js';
import { AppRequests } from './appRequests.js';
import { AppResponses } from './appResponses.js';
import { ClientRequests } from './clientRequests.js';
import { CoreContext } from './coreContext.js';
import type { EngineCounts, MessageTotals } from './coreTypes.js';
import { DialogRequests } from './dialogRequests.js';
import type { SipEngineOptions } from './engineTypes.js';
import { InboundRequests } from './inboundRequests.js';
import { parseAppSip } from './parseAppSip.js';
import { ReliableProvisionals } from './reliableProvisionals.js';

/**
 * The engine core: joins the SIP transport and transaction layers to the drachtio apps. Network
 * requests go to apps, app commands become SIP, dialogs are tracked so in-dialog traffic reaches
 * the app that owns it.
 */
export class SipEngine {
  readonly transactions: TransactionLayer;
  private readonly ctx: CoreContext;
  private readonly inbound: InboundRequests;
  private readonly responses: AppResponses;
  private readonly requests: AppRequests;
  private readonly dialogRequests: DialogRequests;
  private readonly reliable: ReliableProvisionals;
  private readonly detach: Array<() => void> = [];

  constructor(private readonly options: SipEngineOptions) {
    const { transport, registry, logger } = options;
    // Outgoing messages are counted on their way to the transport.
    const counting = {
      send: (message: SipMessage | Buffer, dest: Parameters<typeof transport.send>[1]) => {
        this.ctx.stats.outgoing(message);
        return transport.send(message, dest);
      },
    };
    this.transactions = new TransactionLayer(counting, options.timers ? { timers: options.timers } : {});
    this.ctx = new CoreContext({
      transport,
      transactions: this.transactions,
      registry,
      logger,
      newId: options.newId ?? randomUUID,
      now: options.now ?? Date.now,
    });
    this.dialogRequests = new DialogRequests(this.ctx, (pending) => clients.track(pending));
    const clients = new ClientRequests(this.ctx, this.dialogRequests);
    this.reliable = new ReliableProvisionals(this.ctx);
    this.inbound = new InboundRequests(this.ctx, this.reliable);
    this.responses = new AppResponses(this.ctx, this.dialogRequests, this.reliable);
    this.requests = new AppRequests(this.ctx, clients);
  }

  /** Starts handling network messages and app commands. */
  start(): void {
    const { transport, registry } = this.options;
    const txl = this.transactions;
    const onMessage = (message: SipMessage, source: MessageSource): void => {
      this.ctx.stats.incoming(message);
      this.ctx.currentSource = source;
      try {
        txl.receive(message, source);
      } finally {
        this.ctx.currentSource = undefined;
      }
    };
    const onParseError = (err: SipParseError, raw: Buffer | undefined, source: MessageSource): void => {
      this.ctx.stats.parseErrors++;
      this.options.logger.debug({ err: err.message, from: source.address }, 'malformed SIP message');
      txl.receiveMalformed(err, raw, source);
    };
    const onSocketError = (err: Error): void =>
      this.options.logger.warn({ err: err.message }, 'SIP socket error');
    transport.on('message', onMessage);
    transport.on('parseError', onParseError);
    transport.on('socketError', onSocketError);
    txl.on('request', (req, txn, source) => this.inbound.onRequest(req, txn, source));
    txl.on('cancel', (cancel, cancelTxn, inviteTxn, source) =>
      this.inbound.onCancel(cancel, cancelTxn, inviteTxn, source),
    );
    txl.on('ack', (ack, source) => this.inbound.onAck(ack, source));
    const onSip = (app: AppConnection, command: SipCommand): void => this.onAppSip(app, command);
    const onProxy = (app: AppConnection, command: ProxyCommand): void => {
      app.reject(command.msgId, 'proxy is not supported by the embedded engine');
    };
    const onGone = (app: AppConnection): void => this.inbound.onAppGone(app);
    registry.on('sip', onSip);
    registry.on('proxy', onProxy);
    registry.on('disconnected', onGone);
    this.detach.push(
      () => transport.off('message', onMessage),
      () => transport.off('parseError', onParseError),
      () => transport.off('socketError', onSocketError),
      () => registry.off('sip', onSip),
      () => registry.off('proxy', onProxy),
      () => registry.off('disconnected', onGone),
      () => txl.removeAllListeners(),
    );
  }

  /** Stops handling messages, ends every dialog timer and transaction (nothing is sent). */
  close(): void {
    for (const undo of this.detach.splice(0)) undo();
    this.ctx.dialogs.clear();
    this.reliable.clear();
    this.transactions.close();
    this.ctx.serverRequests.clear();
    this.ctx.clientRequests.clear();
  }

  counts(): EngineCounts {
    const t = this.transactions.counts();
    const c = this.options.transport.connectionCounts();
    const a = this.options.registry.counts();
    return {
      transactions: t.total,
      inviteClientTransactions: t.inviteClient,
      inviteServerTransactions: t.inviteServer,
      nonInviteClientTransactions: t.nonInviteClient,
      nonInviteServerTransactions: t.nonInviteServer,
      dialogs: this.ctx.dialogs.size,
      connections: c.total,
      tcpConnections: c.tcp,
      tlsConnections: c.tls,
      apps: a.authenticated,
      appConnections: a.connections,
      pendingAppCommands: a.pendingCommands,
      pendingServerRequests: this.ctx.serverRequests.size,
      pendingClientRequests: this.ctx.clientRequests.size,
      parseErrors: this.ctx.stats.parseErrors,
    };
  }

  messageTotals(): MessageTotals {
    return this.ctx.stats.snapshot();
  }

  /** True when at least one app is connected and authenticated (for readiness checks). */
  hasApps(): boolean {
    return this.options.registry.hasApps();
  }

  private onAppSip(app: AppConnection, command: SipCommand): void {
    let message: SipMessage;
    try {
      message = parseAppSip(command.rawSip);
    } catch (err) {
      app.reject(command.msgId, `invalid SIP message: ${(err as Error).message}`);
      return;
    }
    if (message.kind === 'response') {
      void this.responses.handle(app, command, message);
      return;
    }
    if (command.dialogId !== '') {
      this.dialogRequests.handleApp(app, command, message);
      return;
    }
    this.requests.handle(app, command, message);
  }
}
