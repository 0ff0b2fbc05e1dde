import type { CallEventName, EventData } from './eventMessages.js';

/** What the call layer appends: the event, the call it is about, and `data` (`{call, …}`). */
export interface AppendInput {
  event: CallEventName;
  callId: string;
  data: EventData;
}

/** One event as stored and as sent: `eventId` and `seq` never change once assigned. */
export interface OutboxEvent {
  seq: number;
  eventId: string;
  event: CallEventName;
  callId: string;
  /** ISO 8601, when it was appended. */
  timestamp: string;
  data: EventData;
}

/** Told when new events may be readable (after the appending transaction ended, either way). */
export type OutboxListener = () => void;

/** Counts what admission refuses, so a full outbox shows on dashboards and not only in logs. */
export interface RefusalCounter {
  inc(): void;
}
