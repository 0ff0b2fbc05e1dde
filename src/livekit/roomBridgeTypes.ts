export interface RoomBridgeOptions {
  /** ws(s) URL of livekit-server. */
  url: string;
  /** A join token for this leg's identity (`sip_<call id>`), with its attributes. */
  token: string;
}

export interface DtmfFromRoom {
  code: number;
  digit: string;
  from: string;
}

/** Why the bridge left the room without being asked to. */
export type RoomBridgeCloseReason = 'room_deleted' | 'disconnected';

export interface RoomBridgeEvents {
  participantJoined: [identity: string];
  participantLeft: [identity: string];
  dtmf: [event: DtmfFromRoom];
  closed: [reason: RoomBridgeCloseReason];
}
