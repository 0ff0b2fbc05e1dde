import { EventEmitter } from 'node:events';
import type { SipMessage, SipRequest, SipResponse } from '../message/messageTypes.js';
import type { Destination } from '../transport/transportTypes.js';
import type { TimerConfig } from './timerConfig.js';
import { TimerSet } from './timerSet.js';
import type {
  ClientTransactionEvents,
  SendOutcome,
  TransactionKind,
  TransactionState,
  TransactionTransport,
} from './transactionTypes.js';

/** Shared plumbing of the INVITE and non-INVITE client transactions (RFC 3261 17.1). */
export abstract class ClientTransaction extends EventEmitter<ClientTransactionEvents> {
  abstract readonly kind: TransactionKind;
  /** Outcome of the first transmission of the request. */
  readonly sent: Promise<SendOutcome>;
  /** True over TCP/TLS: no retransmissions, and the absorbing timers D and K are zero. */
  readonly reliable: boolean;
  protected readonly timers = new TimerSet();
  private currentState: TransactionState;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly destination: Destination,
    protected readonly transport: TransactionTransport,
    protected readonly config: TimerConfig,
    initialState: TransactionState,
  ) {
    super();
    this.reliable = destination.transport !== 'udp';
    this.currentState = initialState;
    this.sent = this.transmit(request);
    this.start();
  }

  get state(): TransactionState {
    return this.currentState;
  }

  /** A response matched to this transaction by the layer. */
  abstract receiveResponse(response: SipResponse): void;

  protected abstract start(): void;

  /** Ends the transaction now, e.g. when the layer shuts down. */
  terminate(): void {
    if (this.currentState === 'terminated') return;
    this.timers.stopAll();
    this.setState('terminated');
    this.emit('terminated');
  }

  protected setState(state: TransactionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('stateChange', state);
  }

  protected async transmit(msg: SipMessage): Promise<SendOutcome> {
    // Later sends go to the connection the first one opened, so a stream is reused.
    try {
      const result = await this.transport.send(msg, this.destination);
      if (result.connectionId !== undefined) this.destination.connectionId = result.connectionId;
      return { ok: true, result };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // RFC 3261 17.1.4: a transport failure ends the transaction and is reported to the TU.
      if (this.currentState !== 'terminated') {
        this.emit('transportError', error);
        this.terminate();
      }
      return { ok: false, error };
    }
  }
}
