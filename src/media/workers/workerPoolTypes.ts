import type { Logger } from 'pino';
import type { PortRange } from '../ports/portAllocatorTypes.js';
import type { CodecPreference } from '../sdp/sdpTypes.js';
import type { EncryptionPolicy } from '../srtp/srtpTypes.js';
import type { MediaSession } from './MediaSession.js';
import type { CreateSessionResult, RecordingInit, SessionCloseReason } from './mediaChannelTypes.js';
import type { MediaWorkerState } from './mediaWorkerTypes.js';

export interface WorkerPoolOptions {
  /** Compiled worker entry to fork (see workerEntryPath). */
  entryFile: string;
  /** config media.workers: 0 = one per core (os.availableParallelism()). */
  workers: number;
  /** config media.rtpPortMin..rtpPortMax; split among workers by splitPortRange. */
  portRange: PortRange;
  bindAddress: string;
  advertisedAddress: string;
  codecs: CodecPreference[];
  timeoutInitialSeconds: number;
  timeoutSeconds: number;
  /**
   * Sessions one worker takes at most. Bounded because rtc-node's cost per frame grows with
   * the calls in one process (see issue 4's measurements); past it, createSession fails with
   * 'capacity' rather than degrade every call on the worker.
   */
  maxSessionsPerWorker: number;
  /** config media.workerProfileDir: workers write a V8 CPU profile there on exit. */
  profileDir?: string;
  /** config recording.dir (and an ffmpeg other than the one on PATH); default data/recordings. */
  recording?: RecordingInit;
  /** Default timeout of a command. */
  requestTimeoutMs?: number;
  startTimeoutMs?: number;
  /** How long close() lets workers end their sessions before killing them. */
  shutdownTimeoutMs?: number;
  /**
   * Liveness probe: every intervalMs each worker must answer getWorkerStatus within timeoutMs,
   * or it is killed and handled as a crash. A worker whose event loop is stuck would otherwise
   * keep its calls hostage, answering nothing. intervalMs 0 turns it off.
   */
  healthCheck?: { intervalMs: number; timeoutMs: number };
  /** Delay before restarting a worker that keeps dying: doubles from initial up to max. */
  restartBackoffMs?: { initial: number; max: number };
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface CreateSessionRequest {
  /** The peer's offer; null to make our own offer (outbound call). */
  remoteOffer: string | null;
  callId?: string | null;
  /** The trunk's SRTP policy; plain RTP only when absent. */
  encryption?: EncryptionPolicy;
  /** The answer is sent later: no media until MediaSession.startMedia (see CreateSessionParams). */
  awaitingAnswer?: boolean;
  /** Default: a fresh ms_<uuid>. */
  sessionId?: string;
  timeoutMs?: number;
}

export interface CreatedSession extends CreateSessionResult {
  session: MediaSession;
}

export interface WorkerInfo {
  index: number;
  pid: number | null;
  state: MediaWorkerState | 'restarting';
  sessions: number;
  portRange: PortRange;
}

export interface WorkerStartedEvent {
  index: number;
  pid: number;
}

export interface WorkerDiedEvent {
  index: number;
  pid: number;
  /** crashed: it exited; unresponsive: it missed a health check and was killed. */
  cause: 'crashed' | 'unresponsive';
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Sessions it held; each has been closed with reason media_error. */
  sessionIds: string[];
}

export interface PoolSessionClosedEvent {
  sessionId: string;
  workerIndex: number;
  reason: SessionCloseReason;
  message: string | null;
}

export interface WorkerPoolEvents {
  workerStarted: [WorkerStartedEvent];
  workerDied: [WorkerDiedEvent];
  workerStartFailed: [{ index: number; error: Error }];
  sessionClosed: [PoolSessionClosedEvent];
}
