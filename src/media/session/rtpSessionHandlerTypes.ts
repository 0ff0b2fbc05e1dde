import type { Logger } from 'pino';
import type { RoomBridgeFactory } from './rtpMediaSessionTypes.js';

export interface RtpSessionHandlerOptions {
  bridges: RoomBridgeFactory;
  logger: Logger;
  /** RTCP report interval before randomisation (default 5000 ms, RFC 3550's minimum). */
  rtcpIntervalMs?: number;
}
