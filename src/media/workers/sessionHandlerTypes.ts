import type {
  CommandParams,
  CommandResult,
  MediaEventName,
  MediaEvents,
  SessionCommandName,
  WorkerInit,
} from './mediaChannelTypes.js';

/** How a handler reports what happens to its sessions; each call is one IPC message. */
export interface SessionEventSink {
  emit<E extends MediaEventName>(event: E, data: MediaEvents[E]): void;
}

export interface WorkerContext {
  init: WorkerInit;
  events: SessionEventSink;
}

/** One method per session command, with the channel's own param and result types. */
export type SessionCommands = {
  [M in SessionCommandName]: (params: CommandParams<M>) => Promise<CommandResult<M>>;
};

/**
 * What runs the calls inside a worker process. The worker runtime owns the channel and hands
 * each session command to this interface; the handler owns sockets, codecs and rooms.
 *
 * Contract:
 * - throw errors carrying a MediaErrorCode in `code` (MediaCommandError, SdpError,
 *   PortsExhaustedError do) so the main process can branch on it; anything else is 'internal';
 * - a session the handler ends by itself (media timeout, room deleted, socket failure) is
 *   reported with a sessionClosed event, exactly once; a closeSession command is answered instead;
 * - every RTP port lease is released on every path, and `status().portsInUse` says so.
 */
export interface SessionHandler extends SessionCommands {
  status(): { sessions: number; portsInUse: number };
  /** Ends every session and frees everything; the worker exits afterwards. Returns how many were open. */
  shutdown(): Promise<number>;
}

export type SessionHandlerFactory = (context: WorkerContext) => SessionHandler;
