import type { EventMessage, WorkerInit } from './mediaChannelTypes.js';

export interface MediaWorkerOptions {
  /** Slot in the pool; a replacement takes the same slot and port slice. */
  index: number;
  /** Compiled worker entry (see workerEntryPath). */
  entryFile: string;
  init: WorkerInit;
  requestTimeoutMs: number;
  /** How long the process may take to fork, load and answer init. */
  startTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Runs the worker under V8's CPU profiler, writing its profile into this folder on exit. */
  profileDir?: string;
}

export interface WorkerExit {
  index: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when close() asked for it; false is a crash. */
  expected: boolean;
}

export interface MediaWorkerEvents {
  event: [EventMessage];
  exit: [WorkerExit];
}

export type MediaWorkerState = 'starting' | 'ready' | 'closing' | 'exited';
