import { EventEmitter } from 'node:events';
import type { SipRequest, SipResponse } from '../message/messageTypes.js';
import type { Destination, MessageSource } from '../transport/transportTypes.js';
import { responseDestination } from './responseDestination.js';
import type { TimerConfig } from './timerConfig.js';
import { TimerSet } from './timerSet.js';
import type {
  SendOutcome,
  ServerTransactionEvents,
  TransactionKind,
  TransactionState,
  TransactionTransport,
} from './transactionTypes.js';

/** Shared plumbing of the INVITE and non-INVITE server transactions (RFC 3261 17.2). */
export abstract class ServerTransaction extends EventEmitter<ServerTransactionEvents> {
  abstract readonly kind: TransactionKind;
  readonly reliable: boolean;
  /** Where responses go: the request's connection, or its Via/rport address over UDP. */
  readonly destination: Destination;
  protected readonly timers = new TimerSet();
  protected lastResponse: SipResponse | undefined;
  private currentState: TransactionState;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly source: MessageSource,
    protected readonly transport: TransactionTransport,
    protected readonly config: TimerConfig,
    initialState: TransactionState,
  ) {
    super();
    this.reliable = source.transport !== 'udp';
    this.destination = responseDestination(request, source);
    this.currentState = initialState;
  }

  get state(): TransactionState {
    return this.currentState;
  }

  /** The final response sent, if any (useful to answer a CANCEL after the INVITE was answered). */
  get finalResponse(): SipResponse | undefined {
    return this.lastResponse && this.lastResponse.status >= 200 ? this.lastResponse : undefined;
  }

  /** Sends a response from the TU through this transaction. */
  abstract respond(response: SipResponse): Promise<SendOutcome>;

  /** A retransmission of the request (or, for INVITE, an ACK) matched by the layer. */
  abstract receiveRequest(request: SipRequest): void;

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

  protected rejectLate(): Promise<SendOutcome> {
    return Promise.resolve({ ok: false, error: new Error(`transaction is ${this.currentState}`) });
  }

  protected async transmit(response: SipResponse): Promise<SendOutcome> {
    try {
      const result = await this.transport.send(response, this.destination);
      return { ok: true, result };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // RFC 3261 17.2.4: transport failure ends the transaction and is reported to the TU.
      if (this.currentState !== 'terminated') {
        this.emit('transportError', error);
        this.terminate();
      }
      return { ok: false, error };
    }
  }
}
