import {
  type ChannelError,
  type MainToWorkerMessage,
  MEDIA_COMMAND_NAMES,
  MEDIA_ERROR_CODES,
  MEDIA_EVENT_NAMES,
  type MediaErrorCode,
  type WorkerToMainMessage,
} from './mediaChannelTypes.js';

/**
 * Shape checks for what crosses the process boundary. Both ends are this codebase, so these
 * guard against bugs and version skew rather than attackers: enough to route a message
 * safely, not a full schema of every payload.
 */
export function isWorkerToMainMessage(value: unknown): value is WorkerToMainMessage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'ready':
      return typeof value.pid === 'number';
    case 'response':
      return (
        Number.isInteger(value.id) &&
        (value.ok === true || (value.ok === false && isRecord(value.error) && isErrorCode(value.error.code)))
      );
    case 'event':
      return (
        typeof value.event === 'string' &&
        (MEDIA_EVENT_NAMES as readonly string[]).includes(value.event) &&
        isRecord(value.data) &&
        typeof value.data.sessionId === 'string'
      );
    default:
      return false;
  }
}

export function isMainToWorkerMessage(value: unknown): value is MainToWorkerMessage {
  if (!isRecord(value)) return false;
  if (value.type === 'init') return isRecord(value.init);
  return (
    value.type === 'request' &&
    Number.isInteger(value.id) &&
    typeof value.method === 'string' &&
    (MEDIA_COMMAND_NAMES as readonly string[]).includes(value.method) &&
    isRecord(value.params)
  );
}

/** What a thrown error becomes on the wire: its own code when it carries one of ours. */
export function toChannelError(error: unknown): ChannelError {
  const code = isRecord(error) && isErrorCode(error.code) ? error.code : 'internal';
  const message = error instanceof Error ? error.message : String(error);
  return { code, message };
}

function isErrorCode(value: unknown): value is MediaErrorCode {
  return typeof value === 'string' && (MEDIA_ERROR_CODES as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
