import { dispose } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { FfiAudio } from '../../livekit/ffiAudio.js';
import { RoomBridge } from '../../livekit/roomBridge.js';
import type { RoomBridgeFactory, SessionRoomBridge } from './rtpMediaSessionTypes.js';

/**
 * Real LiveKit participants through @livekit/rtc-node, one RoomBridge per call; their audio goes
 * through the process's one FfiAudio router.
 */
export class LiveKitBridgeFactory implements RoomBridgeFactory {
  private used = false;
  private readonly audio = new FfiAudio();

  constructor(private readonly logger: Logger) {}

  create(options: { url: string; token: string }): SessionRoomBridge {
    this.used = true;
    return new RoomBridge({ ...options, logger: this.logger, audio: this.audio });
  }

  /** rtc-node's FFI is shared by the process; only free it if a bridge ever started it. */
  async dispose(): Promise<void> {
    if (this.used) await dispose();
  }
}
