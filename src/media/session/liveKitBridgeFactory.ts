import { dispose } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { RoomBridge } from '../../livekit/roomBridge.js';
import type { RoomBridgeFactory, SessionRoomBridge } from './rtpMediaSessionTypes.js';

/** Real LiveKit participants through @livekit/rtc-node, one RoomBridge per call. */
export class LiveKitBridgeFactory implements RoomBridgeFactory {
  private used = false;

  constructor(private readonly logger: Logger) {}

  create(options: { url: string; token: string }): SessionRoomBridge {
    this.used = true;
    return new RoomBridge({ ...options, logger: this.logger });
  }

  /** rtc-node's FFI is shared by the process; only free it if a bridge ever started it. */
  async dispose(): Promise<void> {
    if (this.used) await dispose();
  }
}
