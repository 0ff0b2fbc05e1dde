import type { CallDetails } from './callStore.js';
import { type Call, isFinal } from './callTypes.js';

/** How a CRM's voice-call record names a call's outcome. */
export const CALL_LOG_STATUSES = [
  'INCOMING_CALL',
  'ANSWERED_BY_STAFF',
  'MISSED',
  'VOICEMAIL_RECEIVED',
  'ANSWERED_BY_CALLS_PROVIDER',
] as const;
export type CallLogStatus = (typeof CALL_LOG_STATUSES)[number];

/** A call as a CRM's voice-call record wants it. */
export interface CallLogEntry {
  callId: string;
  appId: string;
  direction: 'INBOUND' | 'OUTBOUND';
  status: CallLogStatus;
  from: string;
  to: string;
  fromChannel: Call['fromChannel'];
  toChannel: Call['toChannel'];
  /** Whole seconds talked, as on the Call object. */
  duration: number;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  endReason: Call['endReason'];
  /** Identity of the room participant who took the call, when one did. */
  answeredBy: string | null;
  externalIds: { sipCallId: string | null; livekitRoomName: string | null };
}

/**
 * The CRM status of a call:
 * - still live (ringing, talking): INCOMING_CALL;
 * - it went to voicemail: VOICEMAIL_RECEIVED;
 * - answered and a participant (staff) joined its room: ANSWERED_BY_STAFF;
 * - answered with nobody in the room (a call flow, voicemail greeting or bot of the gateway):
 *   ANSWERED_BY_CALLS_PROVIDER;
 * - never answered (no answer, busy, canceled, failed, rejected): MISSED.
 */
export function callLogStatus(call: Call, details: CallDetails): CallLogStatus {
  if (!isFinal(call.status)) return 'INCOMING_CALL';
  if (details.voicemail) return 'VOICEMAIL_RECEIVED';
  if (!call.answeredAt) return 'MISSED';
  return details.answeredBy ? 'ANSWERED_BY_STAFF' : 'ANSWERED_BY_CALLS_PROVIDER';
}

export function callLogEntry(call: Call, details: CallDetails): CallLogEntry {
  return {
    callId: call.id,
    appId: call.appId,
    direction: call.direction === 'inbound' ? 'INBOUND' : 'OUTBOUND',
    status: callLogStatus(call, details),
    from: call.fromAddress,
    to: call.toAddress,
    fromChannel: call.fromChannel,
    toChannel: call.toChannel,
    duration: call.duration,
    startedAt: call.startedAt,
    answeredAt: call.answeredAt,
    endedAt: call.endedAt,
    endReason: call.endReason,
    answeredBy: details.answeredBy,
    externalIds: { sipCallId: details.sipCallId, livekitRoomName: call.livekitRoomName },
  };
}
