import { RoomServiceClient } from 'livekit-server-sdk';
import { LiveKitTokens } from './liveKitTokens.js';
import type { LiveKitConnection } from './livekitProbe.js';
import { livekitHttpUrl } from './livekitProbe.js';

export interface CallRoomOptions {
  /** How long livekit-server keeps a room no one joined, or everyone left. */
  emptyTimeoutSeconds: number;
}

/** Rooms for calls and join tokens for their participants, through livekit-server's API. */
export class CallRooms {
  private readonly rooms: RoomServiceClient;
  readonly tokens: LiveKitTokens;

  constructor(
    readonly connection: LiveKitConnection,
    private readonly options: CallRoomOptions = { emptyTimeoutSeconds: 300 },
  ) {
    this.rooms = new RoomServiceClient(
      livekitHttpUrl(connection.url),
      connection.apiKey,
      connection.apiSecret,
    );
    this.tokens = new LiveKitTokens(connection);
  }

  /** The room of a call: `call-<call id>`, so browsers and the API find it from the call alone. */
  roomNameFor(callId: string): string {
    return `call-${callId}`;
  }

  async ensureRoom(name: string): Promise<void> {
    await this.rooms.createRoom({ name, emptyTimeout: this.options.emptyTimeoutSeconds });
  }

  /** Deletes a room, disconnecting everyone in it; a room that is already gone is not an error. */
  async deleteRoom(name: string): Promise<void> {
    try {
      await this.rooms.deleteRoom(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Identities of the participants in a room. */
  async participantIdentities(name: string): Promise<string[]> {
    return (await this.rooms.listParticipants(name)).map((participant) => participant.identity);
  }

  /** Adds or changes attributes of a participant already in a room. */
  async setParticipantAttributes(
    room: string,
    identity: string,
    attributes: Record<string, string>,
  ): Promise<void> {
    await this.rooms.updateParticipant(room, identity, { attributes });
  }

  async roomExists(name: string): Promise<boolean> {
    return (await this.rooms.listRooms([name])).length > 0;
  }
}

/** livekit-server answers an unknown room with Twirp's not_found (HTTP 404). */
function isNotFound(error: unknown): boolean {
  const { code, status } = error as { code?: unknown; status?: unknown };
  return code === 'not_found' || status === 404;
}
