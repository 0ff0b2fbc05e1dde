import { RoomServiceClient } from 'livekit-server-sdk';
import type { ReadinessProbe } from '../observability/readiness.js';

export interface LiveKitConnection {
  url: string;
  apiKey: string;
  apiSecret: string;
}

/** The server API speaks HTTP; config holds the ws(s) URL clients use. */
export function livekitHttpUrl(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:');
}

/** Readiness of livekit-server: an authenticated API call must succeed, so wrong keys show too. */
export function livekitProbe(connection: LiveKitConnection): ReadinessProbe {
  const client = new RoomServiceClient(
    livekitHttpUrl(connection.url),
    connection.apiKey,
    connection.apiSecret,
  );
  return {
    name: 'livekit',
    check: async () => {
      try {
        await client.listRooms();
        return true;
      } catch (error) {
        return `livekit-server at ${connection.url} not reachable: ${(error as Error).message}`;
      }
    },
  };
}
