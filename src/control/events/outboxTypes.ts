import type { CallEventName, EventData, SipEventData, SipEventName } from './eventMessages.js';

/** What the call layer appends: the event, the call it is about, and `data` (`{call, …}`). */
export interface AppendInput {
  event: CallEventName;
  callId: string;
  data: EventData;
}

/** What the routing API appends: a routing change, about no call. */
export interface SipAppendInput {
  event: SipEventName;
  data: SipEventData;
}

/** One event as stored and as sent: `eventId` and `seq` never change once assigned. */
export interface OutboxEvent {
  seq: number;
  eventId: string;
  event: CallEventName | SipEventName;
  /** null for a routing event (sip.*). */
  callId: string | null;
  /** ISO 8601, when it was appended. */
  timestamp: string;
  data: EventData | SipEventData;
}

/** An event about a call (calls.*): every event but the routing ones (sip.*). */
export type CallOutboxEvent = OutboxEvent & { event: CallEventName; callId: string; data: EventData };

/** Told when new events may be readable (after the appending transaction ended, either way). */
export type OutboxListener = () => void;

/** Counts what admission refuses, so a full outbox shows on dashboards and not only in logs. */
export interface RefusalCounter {
  inc(): void;
}
