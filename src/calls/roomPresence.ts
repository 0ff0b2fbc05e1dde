import type { RoomParticipant } from './callTypes.js';

/**
 * Who is in each live call's room besides the gateway's own participant for the call's leg:
 * agents and other WebRTC participants, and other SIP legs bridged in (`sip_…`). Kept in memory
 * from the media session's participant joins and leaves, shown on the live call, and forgotten
 * when the call ends (an ended call's room is empty).
 */
export class RoomPresence {
  private readonly rooms = new Map<string, Map<string, string>>();

  joined(callId: string, identity: string, at: string): void {
    let room = this.rooms.get(callId);
    if (!room) {
      room = new Map();
      this.rooms.set(callId, room);
    }
    if (!room.has(identity)) room.set(identity, at);
  }

  left(callId: string, identity: string): void {
    const room = this.rooms.get(callId);
    room?.delete(identity);
    if (room?.size === 0) this.rooms.delete(callId);
  }

  of(callId: string): RoomParticipant[] {
    const room = this.rooms.get(callId);
    if (!room) return [];
    return [...room].map(([identity, joinedAt]) => ({ identity, joinedAt }));
  }

  forget(callId: string): void {
    this.rooms.delete(callId);
  }

  get size(): number {
    return this.rooms.size;
  }
}
