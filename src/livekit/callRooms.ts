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
}
