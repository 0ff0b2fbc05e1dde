import type {
  CommandParams,
  CommandResult,
  MediaEvents,
  SessionCloseReason,
  SessionCommandName,
} from './mediaChannelTypes.js';

export interface SessionClosedInfo {
  reason: SessionCloseReason;
  message: string | null;
}

/** A session's events: every worker event but sessionClosed, which becomes 'closed' (once, on every path). */
export type MediaSessionEvents = {
  [E in Exclude<keyof MediaEvents, 'sessionClosed'>]: [MediaEvents[E]];
} & {
  closed: [SessionClosedInfo];
};

/** How a session reaches its worker (the pool passes the worker's channel). */
export interface SessionTransport {
  request<M extends SessionCommandName>(
    method: M,
    params: CommandParams<M>,
    timeoutMs?: number,
  ): Promise<CommandResult<M>>;
}
