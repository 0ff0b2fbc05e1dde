import { EventEmitter } from 'node:events';
import { createResponse } from '../message/createResponse.js';
import { errorResponseForRaw } from '../message/errorResponseForRaw.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/messageTypes.js';
import type { SipParseError } from '../message/sipParseError.js';
import type { Destination, MessageSource, TransportEvents } from '../transport/transportTypes.js';
import type { ClientTransaction } from './clientTransaction.js';
import { InviteClientTransaction } from './inviteClientTransaction.js';
import { InviteServerTransaction } from './inviteServerTransaction.js';
import { NonInviteClientTransaction } from './nonInviteClientTransaction.js';
import { NonInviteServerTransaction } from './nonInviteServerTransaction.js';
import { buildCancel } from './requestBuilders.js';
import { responseDestination } from './responseDestination.js';
import type { ServerTransaction } from './serverTransaction.js';
import { resolveTimers, type TimerConfig } from './timerConfig.js';
import { clientKey, inviteKeyForCancel, serverKey } from './transactionKeys.js';
import type { TransactionLayerEvents, TransactionLayerOptions } from './transactionLayerTypes.js';
import type { SendOutcome, TransactionCounts, TransactionTransport } from './transactionTypes.js';

/** The part of the transport layer's event API the transaction layer listens to. */
export interface TransportEventSource {
  on<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): unknown;
  off<K extends keyof TransportEvents>(event: K, listener: (...args: TransportEvents[K]) => void): unknown;
}

/**
 * RFC 3261 17: creates, matches and retires transactions. The TU (core/dialog layer) sends
 * requests with `sendRequest`, answers through the ServerTransaction handed to it on `request`,
 * and gets what transactions do not absorb as layer events.
 */
export class TransactionLayer extends EventEmitter<TransactionLayerEvents> {
  readonly timers: TimerConfig;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly autoTrying: boolean;
  private readonly rejectMalformed: boolean;

  constructor(
    private readonly transport: TransactionTransport,
    options: TransactionLayerOptions = {},
  ) {
    super();
    this.timers = resolveTimers(options.timers);
    this.autoTrying = options.autoTrying ?? true;
    this.rejectMalformed = options.rejectMalformed ?? true;
  }

  /** Subscribes to a transport layer's messages; returns the unsubscribe function. */
  attach(source: TransportEventSource): () => void {
    const onMessage = (msg: SipMessage, from: MessageSource) => this.receive(msg, from);
    const onParseError = (err: SipParseError, raw: Buffer | undefined, from: MessageSource) =>
      this.receiveMalformed(err, raw, from);
    source.on('message', onMessage);
    source.on('parseError', onParseError);
    return () => {
      source.off('message', onMessage);
      source.off('parseError', onParseError);
    };
  }

  /**
   * Starts a client transaction. The request must already carry its top Via with a fresh branch
   * (see generateBranch) and sent-by from TransportLayer.sentBy. ACK is not a transaction: send an
   * ACK for a 2xx with sendStateless.
   */
  sendRequest(request: SipRequest, destination: Destination): ClientTransaction {
    if (request.method === 'ACK') throw new Error('ACK is sent statelessly, not in a transaction');
    const key = clientKey(request);
    if (!key) throw new Error('request needs a top Via with a branch');
    if (this.clients.has(key)) throw new Error('a client transaction with this branch exists');
    const dest = { ...destination };
    const txn =
      request.method === 'INVITE'
        ? new InviteClientTransaction(key, request, dest, this.transport, this.timers, 'calling')
        : new NonInviteClientTransaction(key, request, dest, this.transport, this.timers, 'trying');
    if (txn.state !== 'terminated') {
      this.clients.set(key, txn);
      txn.once('terminated', () => this.clients.delete(key));
    }
    return txn;
  }

  /**
   * Cancels a pending outgoing INVITE (RFC 3261 9.1). A CANCEL may only follow a provisional
   * response, so while the INVITE is still Calling this waits for one. Resolves to the CANCEL's
   * client transaction, or undefined when it is too late (the INVITE got a final response or
   * ended), in which case the TU must end the call with BYE after a 2xx instead.
   */
  async sendCancel(
    invite: InviteClientTransaction,
    extraHeaders: Array<[string, string]> = [],
  ): Promise<ClientTransaction | undefined> {
    if (invite.state === 'calling') {
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (invite.state === 'calling') return;
          invite.off('stateChange', check);
          resolve();
        };
        invite.on('stateChange', check);
      });
    }
    if (invite.state !== 'proceeding') return undefined;
    // Same destination (and connection) as the INVITE, so it reaches the same server transaction.
    return this.sendRequest(buildCancel(invite.request, extraHeaders), invite.destination);
  }

  /** Sends a message outside any transaction (2xx ACKs, proxied-style responses). */
  async sendStateless(message: SipMessage | Buffer, destination: Destination): Promise<SendOutcome> {
    try {
      return { ok: true, result: await this.transport.send(message, destination) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  /** Answers a request statelessly, e.g. a 100 Trying before any transaction exists. */
  sendStatelessResponse(
    request: SipRequest,
    source: MessageSource,
    status: number,
    reason?: string,
  ): Promise<SendOutcome> {
    const response = createResponse(request, status, reason === undefined ? {} : { reason });
    return this.sendStateless(response, responseDestination(request, source));
  }

  counts(): TransactionCounts {
    const counts = { inviteClient: 0, inviteServer: 0, nonInviteClient: 0, nonInviteServer: 0, total: 0 };
    for (const t of this.clients.values()) {
      if (t.kind === 'invite-client') counts.inviteClient++;
      else counts.nonInviteClient++;
    }
    for (const t of this.servers.values()) {
      if (t.kind === 'invite-server') counts.inviteServer++;
      else counts.nonInviteServer++;
    }
    counts.total = this.clients.size + this.servers.size;
    return counts;
  }

  /** Terminates every transaction (timers stop; no messages are sent). */
  close(): void {
    for (const t of [...this.clients.values()]) t.terminate();
    for (const t of [...this.servers.values()]) t.terminate();
  }

  receive(message: SipMessage, source: MessageSource): void {
    if (message.kind === 'response') this.receiveResponse(message, source);
    else this.receiveRequest(message, source);
  }

  receiveMalformed(error: SipParseError, raw: Buffer | undefined, source: MessageSource): void {
    let answered = false;
    if (this.rejectMalformed && raw) {
      const reply = errorResponseForRaw(raw, error);
      if (reply) {
        answered = true;
        // The raw request's Via was never parsed, so answer where it came from.
        void this.sendStateless(reply, {
          transport: source.transport,
          address: source.address,
          port: source.port,
          ...(source.connectionId !== undefined ? { connectionId: source.connectionId } : {}),
        });
      }
    }
    this.emit('malformed', error, source, answered);
  }

  private receiveResponse(response: SipResponse, source: MessageSource): void {
    const key = clientKey(response);
    const txn = key === undefined ? undefined : this.clients.get(key);
    if (txn) txn.receiveResponse(response);
    else this.emit('strayResponse', response, source);
  }

  private receiveRequest(request: SipRequest, source: MessageSource): void {
    const key = serverKey(request);
    if (key === undefined) return;
    const existing = this.servers.get(key);
    if (request.method === 'ACK') {
      // Completed/Confirmed: the ACK for our non-2xx, absorbed. None/Accepted: the ACK for a 2xx,
      // which belongs to the dialog. Proceeding: an ACK for nothing we sent, dropped.
      if (!existing || existing.state === 'accepted') this.emit('ack', request, source);
      else existing.receiveRequest(request);
      return;
    }
    if (existing) {
      existing.receiveRequest(request);
      return;
    }
    if (request.method === 'CANCEL') {
      this.receiveCancel(key, request, source);
      return;
    }
    const txn =
      request.method === 'INVITE'
        ? new InviteServerTransaction(key, request, source, this.transport, this.timers, 'proceeding')
        : new NonInviteServerTransaction(key, request, source, this.transport, this.timers, 'trying');
    this.track(key, txn);
    if (txn instanceof NonInviteServerTransaction) txn.startGuard();
    else if (this.autoTrying) void txn.respond(createResponse(request, 100));
    this.emit('request', request, txn, source);
  }

  private receiveCancel(key: string, cancel: SipRequest, source: MessageSource): void {
    const txn = new NonInviteServerTransaction(key, cancel, source, this.transport, this.timers, 'trying');
    this.track(key, txn);
    txn.startGuard();
    const inviteKey = inviteKeyForCancel(cancel);
    const invite = inviteKey === undefined ? undefined : this.servers.get(inviteKey);
    if (!(invite instanceof InviteServerTransaction) || invite.state === 'terminated') {
      void txn.respond(createResponse(cancel, 481));
      return;
    }
    this.emit('cancel', cancel, txn, invite, source);
  }

  private track(key: string, txn: ServerTransaction): void {
    this.servers.set(key, txn);
    txn.once('terminated', () => {
      if (this.servers.get(key) === txn) this.servers.delete(key);
    });
  }

  /** For tests and diagnostics: the live server transaction a request would match. */
  findServerTransaction(request: SipRequest): ServerTransaction | undefined {
    const key = serverKey(request);
    return key === undefined ? undefined : this.servers.get(key);
  }
}
