import type { SqlStatement } from '../store/sql/sqlTypes.js';
import type { Call, CallChannel, CallDirection, CallStatus, EndReason } from './callTypes.js';

/**
 * Where call events go: the durable outbox. `append` makes an event's row, to be committed in
 * one batch with the change it describes; `commit` hands such a batch to the store, and the
 * channel hears of its events once it is committed.
 */
export interface CallEventSink {
  append(event: { event: string; callId: string; data: Record<string, unknown> }): SqlStatement;
  commit(statements: readonly SqlStatement[]): void;
}

export interface NewCall {
  /** Its id when it had one before it existed (cluster admission takes a slot for it first). */
  id?: string;
  appId: string;
  direction: CallDirection;
  fromAddress: string;
  toAddress: string;
  fromChannel: CallChannel;
  toChannel: CallChannel;
  metadata?: Record<string, unknown>;
  livekitRoomName?: string | null;
  /** The room named from the new call's id, for calls that have their room from the start. */
  roomFor?: (callId: string) => string;
  /** The SIP Call-ID of the call's leg, when it is known at creation (inbound). */
  sipCallId?: string | null;
}

/** How a caller's digit came: RFC 4733 telephone-events in its RTP, or a SIP INFO request. */
export type DtmfSource = 'rfc4733' | 'sip_info';

export interface TransitionRequest {
  to: CallStatus;
  endReason?: EndReason;
  sipStatus?: number;
  /** The far end's reason phrase beside sipStatus. */
  sipReason?: string;
  /** When the change happened, if not now: a call cut off by a crash ends when the gateway died. */
  at?: Date;
}

export type TransitionResult =
  | { ok: true; call: Call; previous: CallStatus }
  | { ok: false; call: Call | undefined; reason: string };

export interface CallServiceEvents {
  /** After the change is committed: `previous` is undefined for a new call. */
  transition: [call: Call, previous: CallStatus | undefined];
  /** Someone joined or left a call's room (the call as it is now, with its participants). */
  participants: [call: Call];
}
