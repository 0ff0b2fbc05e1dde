import type { Logger } from 'pino';
import type { CallRooms } from '../livekit/callRooms.js';
import type { MediaSession } from '../media/workers/MediaSession.js';
import { type WhatsAppCallInfo, whatsappAttributes } from '../signalling/whatsappHeaders.js';

/**
 * How long a media session may take to join its room. Joining is a WebRTC handshake; many at once
 * on a busy host take seconds, so wait well past the media command default.
 */
export const ROOM_JOIN_TIMEOUT_MS = 20_000;

/**
 * Where a SIP leg's call stands, in its participant's `sip.callStatus` attribute (LiveKit SIP's
 * values): an agent in the room sees a caller ringing before anyone answered, and the hangup
 * before the participant leaves.
 */
export type SipCallStatus = 'dialing' | 'ringing' | 'active' | 'hangup';
export const SIP_CALL_STATUS = 'sip.callStatus';

/**
 * Changes a joined participant's sip.callStatus through livekit-server. Never rejects: an
 * attribute must not hold up or fail the answer it reports, so a failure is only logged.
 */
export function updateCallStatus(
  rooms: Partial<Pick<CallRooms, 'setParticipantAttributes'>>,
  participant: Pick<SipParticipant, 'roomName' | 'identity'>,
  status: SipCallStatus,
  logger: Logger,
  extra: Record<string, string> = {},
): Promise<void> {
  const update = rooms.setParticipantAttributes?.(participant.roomName, participant.identity, {
    [SIP_CALL_STATUS]: status,
    ...extra,
  });
  return (update ?? Promise.resolve()).catch((error: unknown) =>
    logger.warn({ err: error, room: participant.roomName, status }, 'sip.callStatus not updated'),
  );
}

/** A SIP leg's participant in a call's room: `sip_…` identity, `sip.*` attributes. */
export interface SipParticipant {
  roomName: string;
  identity: string;
  attributes: Record<string, string>;
}

/** What a SIP leg's participant says of itself, as LiveKit's SIP participants do. */
export interface SipLegFacts {
  callId: string;
  from: string;
  to: string;
  trunk: string;
  direction: 'inbound' | 'outbound';
  /** How the leg's media is keyed (none, sdes, dtls), once known. */
  mediaEncryption?: string;
  /** Meta's x-wa-meta-* headers of a WhatsApp leg, as `sip.h.x-wa-meta-*`. */
  whatsapp?: WhatsAppCallInfo;
}

/** The `sip.*` attributes of a leg's participant, the one place they are named. */
export function sipAttributes(leg: SipLegFacts): Record<string, string> {
  return {
    'sip.callId': leg.callId,
    'sip.from': leg.from,
    'sip.to': leg.to,
    'sip.trunk': leg.trunk,
    'sip.direction': leg.direction,
    ...(leg.mediaEncryption ? { 'sip.mediaEncryption': leg.mediaEncryption } : {}),
    ...(leg.whatsapp ? whatsappAttributes(leg.whatsapp) : {}),
  };
}

/** Mints the participant's token and joins the media session to the room with it. */
export async function joinRoom(
  rooms: Pick<CallRooms, 'tokens' | 'connection'>,
  session: MediaSession,
  participant: SipParticipant,
): Promise<void> {
  const { roomName, identity, attributes } = participant;
  const token = await rooms.tokens.participantToken({
    room: roomName,
    identity,
    kind: 'sip',
    attributes,
    ttlSeconds: 600,
  });
  await session.connectRoom(
    { url: rooms.connection.url, token, roomName, identity, attributes },
    ROOM_JOIN_TIMEOUT_MS,
  );
}
