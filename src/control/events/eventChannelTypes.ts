import type { Logger } from 'pino';
import type { CommandHandler } from './commandHandler.js';
import type { EventChannelMetrics } from './eventChannelMetrics.js';
import type { EventOutbox } from './eventOutbox.js';

export interface EventChannelOptions {
  /** ws:// or wss:// URL of the control plane. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; null sends no Authorization header. */
  token: string | null;
  gatewayId: string;
  version: string;
  outbox: EventOutbox;
  commands: CommandHandler;
  logger: Logger;
  metrics: EventChannelMetrics;
  reconnect: { minMs: number; maxMs: number };
  /** Events sent and not yet acked, at most. */
  sendWindow: number;
  /**
   * How often the channel looks at the outbox without being told to: events appended by another
   * connection to the same database (a maintenance script, a process being replaced) have no
   * in-process notification.
   */
  pollIntervalMs?: number;
  /** Ping interval; a connection with no pong (or message) by the next ping is dropped. */
  heartbeatMs?: number;
  random?: () => number;
}

/** What the channel reports in-process (tests and the composition wait on these, never on time). */
export interface EventChannelEvents {
  /** The socket is open and the hello was sent. */
  connected: [];
  disconnected: [reason: string];
  /** The control plane acked up to `seq` (cumulative), and the outbox recorded it. */
  acked: [seq: number];
}
