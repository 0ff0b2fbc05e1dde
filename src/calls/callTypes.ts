import type { MediaKeying } from '../media/srtp/srtpTypes.js';

export type CallDirection = 'inbound' | 'outbound';
export type CallChannel = 'pstn' | 'whatsapp' | 'webrtc';

export const LIVE_STATUSES = ['initiated', 'ringing', 'in_progress', 'voicemail'] as const;
export const FINAL_STATUSES = ['completed', 'failed', 'busy', 'no_answer', 'canceled'] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type CallStatus = LiveStatus | FinalStatus;

/**
 * Why a call ended: a closed set, because control planes bill and report from it.
 * - caller_hangup / callee_hangup: the far end hung up (BYE), named from the gateway's side.
 * - api_hangup: a hangup command (REST or the event channel).
 * - canceled: the caller gave up before answer (CANCEL).
 * - busy, declined, no_answer, ring_timeout: how an unanswered call ended.
 * - rejected: an inbound call refused by a reject action.
 * - media_timeout: no RTP for too long; max_duration: the call's time limit.
 * - room_closed: its LiveKit room was deleted.
 * - media_error: the media worker carrying it failed.
 * - trunk_error: the trunk or far end failed the call (4xx/5xx/6xx with its SIP code kept).
 * - provider_error: a WhatsApp provider (Graph mode) failed a call action, after retries where the
 *   action may be repeated (its HTTP status in sipStatus, its message in sipReason).
 * - concurrency_limit: refused because the app had maxConcurrentCalls live calls.
 * - gateway_restart: still live when the gateway stopped unexpectedly; closed at the next start.
 * - gateway_shutdown: not yet answered when the gateway was asked to stop.
 * - transferred: the far end took the call elsewhere at our REFER (a transfer action or verb).
 * - session_expired: the session timer (RFC 4028) ran out: no refresh came from the far end, or our
 *   refresh got 408/481; the gateway sent BYE.
 */
export const END_REASONS = [
  'caller_hangup',
  'callee_hangup',
  'api_hangup',
  'canceled',
  'busy',
  'declined',
  'no_answer',
  'ring_timeout',
  'rejected',
  'media_timeout',
  'max_duration',
  'room_closed',
  'media_error',
  'trunk_error',
  'provider_error',
  'concurrency_limit',
  'gateway_restart',
  'gateway_shutdown',
  'transferred',
  'session_expired',
] as const;
export type EndReason = (typeof END_REASONS)[number];

export interface Call {
  id: string;
  appId: string;
  direction: CallDirection;
  status: CallStatus;
  fromAddress: string;
  toAddress: string;
  fromChannel: CallChannel;
  toChannel: CallChannel;
  /** Whole seconds from answer to end (rounded up, as carriers bill); 0 when never answered. */
  duration: number;
  endReason: EndReason | null;
  /** The SIP final response code that ended an unanswered call, when there was one. */
  sipStatus: number | null;
  /** Its reason phrase, when the far end's final response ended the call (Meta says why). */
  sipReason: string | null;
  metadata: Record<string, unknown>;
  livekitRoomName: string | null;
  /** The SIP leg's media, once its offer/answer settled; null before, or with no SIP leg. */
  media: CallMedia | null;
  /**
   * How the call's own leg (the phone side) is received: live figures every few seconds while
   * it lasts, the final ones once it ended; null until its first RTP, or with no such leg.
   */
  quality: CallQuality | null;
  /** Who is in the call's room now (agents, bridged legs); empty once it ended. */
  participants: RoomParticipant[];
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  createdAt: string;
}

export interface CallMedia {
  /** How the leg's RTP was keyed: plain RTP, SDES-SRTP (a=crypto) or DTLS-SRTP. */
  encryption: MediaKeying;
}

/**
 * What the gateway measures of the stream it receives on a call's own leg (the caller's, or an
 * outbound call's callee), from the media worker's RTP receive statistics (RFC 3550).
 */
export interface CallQuality {
  /**
   * packetsLost / packets expected, over the call so far (the whole call, once ended): the
   * expected count comes from the RTP sequence numbers (RFC 3550 A.3), so a packet the peer sent
   * that never arrived counts, one it never sent does not. 0–1.
   */
  packetLossRatio: number;
  /** RTP packets received on the leg (DTMF events included). */
  packetsReceived: number;
  /** RTP packets expected from the sequence numbers but never received. */
  packetsLost: number;
  /** RFC 3550 interarrival jitter, the latest estimate (at the end, for an ended call), in ms. */
  jitterMs: number;
  /** From the peer's RTCP receiver reports about our stream; null when it sends none. */
  roundTripMs: number | null;
  /** E-model estimate (ITU-T G.107) of the listening quality, 1–4.5; null before 50 packets. */
  mos: number | null;
  /** When these figures were measured. */
  updatedAt: string;
}

/** Event names on the control-plane channel, one per status a call can enter. */
export const STATUS_EVENTS: Record<CallStatus, string> = {
  initiated: 'calls.initiated',
  ringing: 'calls.ringing',
  in_progress: 'calls.answered',
  voicemail: 'calls.voicemail',
  completed: 'calls.completed',
  failed: 'calls.failed',
  busy: 'calls.busy',
  no_answer: 'calls.no_answer',
  canceled: 'calls.canceled',
};

export function isFinal(status: CallStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** A participant of a call's room, as the call shows it. */
export interface RoomParticipant {
  identity: string;
  joinedAt: string;
}
