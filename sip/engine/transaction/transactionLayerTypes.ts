import type { SipRequest, SipResponse } from '../message/messageTypes.js';
import type { SipParseError } from '../message/sipParseError.js';
import type { MessageSource } from '../transport/transportTypes.js';
import type { InviteServerTransaction } from './inviteServerTransaction.js';
import type { NonInviteServerTransaction } from './nonInviteServerTransaction.js';
import type { ServerTransaction } from './serverTransaction.js';
import type { TimerConfig } from './timerConfig.js';

export interface TransactionLayerOptions {
  timers?: Partial<TimerConfig>;
  /**
   * Send 100 Trying through a new INVITE server transaction as soon as it exists (RFC 3261
   * 17.2.1 allows it; drachtio-server does it), so retransmitted INVITEs get it again. Default true.
   */
  autoTrying?: boolean;
  /** Answer unparseable requests with 400 (or 505/513) built from their raw headers. Default true. */
  rejectMalformed?: boolean;
}

export interface TransactionLayerEvents {
  /** A new request other than ACK and CANCEL, with the server transaction the TU answers through. */
  request: [request: SipRequest, transaction: ServerTransaction, source: MessageSource];
  /**
   * A CANCEL that matched a live INVITE server transaction. The TU answers the CANCEL (200) through
   * `cancelTransaction` and, if the INVITE is still unanswered, the INVITE with 487. A CANCEL
   * matching nothing is answered 481 by the layer and not reported.
   */
  cancel: [
    cancel: SipRequest,
    cancelTransaction: NonInviteServerTransaction,
    inviteTransaction: InviteServerTransaction,
    source: MessageSource,
  ];
  /** An ACK not absorbed by a transaction: the ACK for a 2xx, which belongs to the dialog. */
  ack: [ack: SipRequest, source: MessageSource];
  /** A response that matched no client transaction (e.g. a 2xx retransmitted after Timer M). */
  strayResponse: [response: SipResponse, source: MessageSource];
  /** A message that failed to parse; already answered when it was a request we could answer. */
  malformed: [error: SipParseError, source: MessageSource, answered: boolean];
}
