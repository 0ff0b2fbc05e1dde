import type { WorkerToMainMessage } from './mediaChannelTypes.js';

/** The worker's view of its parent: process IPC in production, a fake in unit tests. */
export interface ParentPort {
  /** Sends one message; silently dropped once the parent is gone. */
  send(message: WorkerToMainMessage): void;
  on(event: 'message', listener: (message: unknown) => void): void;
  on(event: 'disconnect', listener: () => void): void;
  /** Leaves the process once the last response is on its way. */
  exit(): void;
}
