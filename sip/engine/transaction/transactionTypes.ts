import type { SipMessage, SipRequest, SipResponse } from '../message/messageTypes.js';
import type { TransportError } from '../transport/transportError.js';
import type { Destination, SendResult } from '../transport/transportTypes.js';

export type TransactionKind = 'invite-client' | 'invite-server' | 'non-invite-client' | 'non-invite-server';

export type TransactionState =
  | 'calling'
  | 'trying'
  | 'proceeding'
  | 'completed'
  | 'confirmed'
  | 'accepted'
  | 'terminated';

/** What the transaction layer needs from the transport layer. */
export interface TransactionTransport {
  send(message: SipMessage | Buffer, dest: Destination): Promise<SendResult>;
}

/** Outcome of a send; never a rejected promise, so a forgotten await cannot crash the process. */
export type SendOutcome = { ok: true; result: SendResult } | { ok: false; error: Error };

export interface ClientTransactionEvents {
  response: [response: SipResponse];
  /** Timer B or F fired without a final response (the TU acts as if a 408 arrived). */
  timeout: [];
  transportError: [error: Error];
  stateChange: [state: TransactionState];
  terminated: [];
}

export interface ServerTransactionEvents {
  /**
   * INVITE server: timer H fired, no ACK came for a non-2xx final response. Non-INVITE server:
   * the TU sent no final response within 64*T1.
   */
  timeout: [];
  transportError: [error: Error];
  stateChange: [state: TransactionState];
  terminated: [];
}

export interface TransactionCounts {
  inviteClient: number;
  inviteServer: number;
  nonInviteClient: number;
  nonInviteServer: number;
  total: number;
}

export type { Destination, SendResult, SipRequest, SipResponse, TransportError };
