import type { Logger } from 'pino';
import type { SecureMediaTimers } from './dtlsIceTransport.js';
import type { RoomBridgeFactory } from './rtpMediaSessionTypes.js';

export interface RtpSessionHandlerOptions {
  bridges: RoomBridgeFactory;
  logger: Logger;
  /** RTCP report interval before randomisation (default 5000 ms, RFC 3550's minimum). */
  rtcpIntervalMs?: number;
  /** How often each session's `stats` event goes out (default 2000 ms, whatever RTCP does). */
  statsIntervalMs?: number;
  /** ICE and DTLS timers of DTLS-SRTP calls (RFC defaults: consent lost after 30 s, 10 s handshake). */
  secureMediaTimers?: SecureMediaTimers;
}
