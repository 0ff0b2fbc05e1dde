import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { ReadinessProbe } from '../../observability/readiness.js';
import type { PortRange } from '../ports/portAllocatorTypes.js';
import { splitPortRange } from '../ports/splitPortRange.js';
import { NO_ENCRYPTION } from '../srtp/srtpTypes.js';
import { MediaSession } from './MediaSession.js';
import { MediaWorker } from './MediaWorker.js';
import type { EventMessage, WorkerStatus } from './mediaChannelTypes.js';
import { MediaCommandError } from './mediaCommandError.js';
import type { SessionClosedInfo } from './mediaSessionTypes.js';
import type { WorkerExit } from './mediaWorkerTypes.js';
import type {
  CreatedSession,
  CreateSessionRequest,
  WorkerInfo,
  WorkerPoolEvents,
  WorkerPoolOptions,
} from './workerPoolTypes.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_START_TIMEOUT_MS = 10_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
const DEFAULT_BACKOFF = { initial: 250, max: 10_000 };
const DEFAULT_HEALTH_CHECK = { intervalMs: 5_000, timeoutMs: 3_000 };
/** A worker that lived this long before dying is restarted at once, not backed off. */
const STABLE_AFTER_MS = 30_000;

interface Slot {
  index: number;
  range: PortRange;
  worker: MediaWorker | null;
  starting: Promise<void> | null;
  restartTimer: NodeJS.Timeout | null;
  /** Deaths in a row of workers that did not live STABLE_AFTER_MS. */
  quickDeaths: number;
  startedAt: number;
  healthTimer: NodeJS.Timeout | null;
  /** Set when the health check killed the worker, so its death is reported as such. */
  unresponsive: boolean;
}

/**
 * The media workers, mediasoup style: N child processes, each with its own slice of the RTP
 * range, driven by typed commands. A session goes to the least-loaded worker under its limit.
 * A worker that dies takes only its own sessions with it (closed with media_error, their
 * pending commands rejected); the pool starts a replacement in the same slot.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly slots: Slot[];
  private readonly sessions = new Map<string, MediaSession>();
  /** Sessions whose createSession has not returned: their failure is the caller's, not an event. */
  private readonly creating = new Set<string>();
  private closing: Promise<void> | null = null;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    const count = options.workers > 0 ? options.workers : availableParallelism();
    this.slots = splitPortRange(options.portRange, count).map((range, index) => ({
      index,
      range,
      worker: null,
      starting: null,
      restartTimer: null,
      quickDeaths: 0,
      startedAt: 0,
      healthTimer: null,
      unresponsive: false,
    }));
  }

  get size(): number {
    return this.slots.length;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Whether a createSession now would find a ready worker below its session limit. */
  hasCapacity(): boolean {
    return !this.closing && this.leastLoaded() !== null;
  }

  /** The readiness check of the media plane: at least one worker can take calls. */
  probe(): ReadinessProbe {
    return {
      name: 'media',
      check: () => this.workers().some((worker) => worker.state === 'ready') || 'no media worker is running',
    };
  }

  session(id: string): MediaSession | undefined {
    return this.sessions.get(id);
  }

  workers(): WorkerInfo[] {
    return this.slots.map((slot) => ({
      index: slot.index,
      pid: slot.worker?.pid ?? null,
      state: slot.worker?.state ?? 'restarting',
      sessions: slot.worker?.sessions.size ?? 0,
      portRange: slot.range,
    }));
  }

  /** Starts every worker; rejects (and stops those that started) if one cannot start. */
  async start(): Promise<void> {
    try {
      await Promise.all(this.slots.map((slot) => this.startSlot(slot)));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Places a new session on the least-loaded worker and returns it with our SDP. */
  async createSession(request: CreateSessionRequest): Promise<CreatedSession> {
    if (this.closing) {
      throw new MediaCommandError('worker_closed', 'the media worker pool is closed', 'createSession');
    }
    const worker = this.leastLoaded();
    if (!worker) {
      throw new MediaCommandError(
        'capacity',
        'no media worker has room for another session',
        'createSession',
      );
    }
    const sessionId = request.sessionId ?? `ms_${randomUUID()}`;
    if (this.sessions.has(sessionId)) {
      throw new MediaCommandError('session_exists', `session ${sessionId} exists`, 'createSession');
    }
    const session = new MediaSession(sessionId, worker.index, {
      request: (method, params, timeoutMs) => worker.request(method, params, timeoutMs),
    });
    // Counted before the first await, so concurrent creates see this worker's load rise.
    worker.sessions.add(sessionId);
    this.sessions.set(sessionId, session);
    this.creating.add(sessionId);
    try {
      const result = await worker.request(
        'createSession',
        {
          sessionId,
          remoteOffer: request.remoteOffer,
          callId: request.callId ?? null,
          encryption: request.encryption ?? NO_ENCRYPTION,
          ...(request.awaitingAnswer ? { awaitingAnswer: true } : {}),
        },
        request.timeoutMs,
      );
      // The worker may already have ended it (an event can overtake the response).
      if (session.closeInfo) this.forget(session, worker, session.closeInfo);
      else session.once('closed', (info) => this.forget(session, worker, info));
      return { ...result, session };
    } catch (error) {
      this.sessions.delete(sessionId);
      worker.sessions.delete(sessionId);
      // The worker may have created it after all; without this its port stays leased.
      if (error instanceof MediaCommandError && error.code === 'timeout') {
        worker.request('closeSession', { sessionId, reason: 'media_error' }).catch(() => {});
      }
      throw error;
    } finally {
      this.creating.delete(sessionId);
    }
  }

  /** Each running worker's own account of its sessions and port leases. */
  async workerStatuses(timeoutMs?: number): Promise<WorkerStatus[]> {
    const ready = this.slots.flatMap((slot) => (slot.worker?.state === 'ready' ? [slot.worker] : []));
    return Promise.all(ready.map((worker) => worker.request('getWorkerStatus', {}, timeoutMs)));
  }

  /**
   * Stops accepting sessions, lets every worker close its sessions and exit (killing those that
   * take longer than shutdownTimeoutMs); open sessions end with reason 'shutdown'. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeWorkers();
    return this.closing;
  }

  private async closeWorkers(): Promise<void> {
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      this.stopHealthCheck(slot);
    }
    await Promise.all(this.slots.map((slot) => slot.starting?.catch(() => {})));
    const grace = this.options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    await Promise.all(this.slots.map((slot) => slot.worker?.close(grace)));
  }

  private leastLoaded(): MediaWorker | null {
    let best: MediaWorker | null = null;
    for (const slot of this.slots) {
      const worker = slot.worker;
      if (worker?.state !== 'ready') continue;
      if (worker.sessions.size >= this.options.maxSessionsPerWorker) continue;
      if (!best || worker.sessions.size < best.sessions.size) best = worker;
    }
    return best;
  }

  private startSlot(slot: Slot): Promise<void> {
    const starting = this.launch(slot).finally(() => {
      slot.starting = null;
    });
    slot.starting = starting;
    return starting;
  }

  private async launch(slot: Slot): Promise<void> {
    const worker = await MediaWorker.start({
      index: slot.index,
      entryFile: this.options.entryFile,
      init: {
        workerIndex: slot.index,
        portRange: slot.range,
        bindAddress: this.options.bindAddress,
        advertisedAddress: this.options.advertisedAddress,
        codecs: this.options.codecs,
        timeoutInitialSeconds: this.options.timeoutInitialSeconds,
        timeoutSeconds: this.options.timeoutSeconds,
        ...(this.options.recording ? { recording: this.options.recording } : {}),
      },
      requestTimeoutMs: this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      startTimeoutMs: this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      ...(this.options.env ? { env: this.options.env } : {}),
      ...(this.options.profileDir ? { profileDir: this.options.profileDir } : {}),
    });
    worker.on('event', (message) => this.route(worker, message));
    worker.on('exit', (exit) => this.onExit(slot, worker, exit));
    slot.worker = worker;
    slot.startedAt = Date.now();
    slot.unresponsive = false;
    this.startHealthCheck(slot, worker);
    this.options.logger?.info(
      { worker: slot.index, pid: worker.pid, ports: slot.range },
      'media worker started',
    );
    this.emit('workerStarted', { index: slot.index, pid: worker.pid });
    // Closed while it was starting: it was never offered a session, so just stop it.
    if (this.closing) await worker.close(this.options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
  }

  private route(worker: MediaWorker, message: EventMessage): void {
    if (!worker.sessions.has(message.data.sessionId)) return;
    const session = this.sessions.get(message.data.sessionId);
    if (session) this.isolate(session.id, () => session.handleEvent(message));
  }

  private startHealthCheck(slot: Slot, worker: MediaWorker): void {
    const { intervalMs, timeoutMs } = this.options.healthCheck ?? DEFAULT_HEALTH_CHECK;
    if (intervalMs <= 0) return;
    let probing = false;
    slot.healthTimer = setInterval(() => {
      if (probing || worker.state !== 'ready') return;
      probing = true;
      worker
        .request('getWorkerStatus', {}, timeoutMs)
        .catch((error: unknown) => {
          if (!(error instanceof MediaCommandError) || error.code !== 'timeout' || worker.state !== 'ready')
            return;
          this.options.logger?.error(
            { worker: slot.index, pid: worker.pid, timeoutMs },
            'media worker missed its health check; killing it',
          );
          slot.unresponsive = true;
          worker.kill();
        })
        .finally(() => {
          probing = false;
        });
    }, intervalMs);
    // The pool's children keep the process alive; the probe alone should not.
    slot.healthTimer.unref();
  }

  private stopHealthCheck(slot: Slot): void {
    if (slot.healthTimer) clearInterval(slot.healthTimer);
    slot.healthTimer = null;
  }

  private onExit(slot: Slot, worker: MediaWorker, exit: WorkerExit): void {
    if (slot.worker === worker) {
      slot.worker = null;
      this.stopHealthCheck(slot);
    }
    const reason = exit.expected ? 'shutdown' : 'media_error';
    const message = exit.expected
      ? 'media worker closed'
      : slot.unresponsive
        ? `media worker ${exit.index} (pid ${exit.pid}) stopped answering and was killed`
        : `media worker ${exit.index} (pid ${exit.pid}) died (${exit.signal ?? `exit code ${exit.code}`})`;
    const sessionIds = [...worker.sessions].filter((id) => !this.creating.has(id));
    for (const id of sessionIds)
      this.isolate(id, () => this.sessions.get(id)?.markClosed({ reason, message }));
    if (exit.expected || this.closing) return;
    this.options.logger?.error(
      {
        worker: exit.index,
        pid: exit.pid,
        code: exit.code,
        signal: exit.signal,
        sessions: sessionIds.length,
      },
      'media worker died; its sessions end with media_error',
    );
    this.emit('workerDied', {
      index: exit.index,
      pid: exit.pid,
      cause: slot.unresponsive ? 'unresponsive' : 'crashed',
      code: exit.code,
      signal: exit.signal,
      sessionIds,
    });
    this.scheduleRestart(slot);
  }

  /**
   * Runs a session's listeners so that one call's throwing listener cannot stop the pool from
   * closing the other calls of a dead worker or restarting it, nor crash the main process.
   */
  private isolate(sessionId: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.logger?.error({ err: error, sessionId }, 'media session listener threw');
    }
  }

  private scheduleRestart(slot: Slot): void {
    if (this.closing || slot.restartTimer || slot.starting) return;
    if (Date.now() - slot.startedAt >= STABLE_AFTER_MS) slot.quickDeaths = 0;
    const backoff = this.options.restartBackoffMs ?? DEFAULT_BACKOFF;
    // The first replacement starts at once; a worker that keeps dying is retried ever later.
    const delay =
      slot.quickDeaths === 0 ? 0 : Math.min(backoff.max, backoff.initial * 2 ** (slot.quickDeaths - 1));
    slot.quickDeaths += 1;
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.closing) return;
      this.startSlot(slot).catch((error: Error) => {
        this.options.logger?.error({ worker: slot.index, err: error }, 'media worker failed to restart');
        this.emit('workerStartFailed', { index: slot.index, error });
        // A failed start counts as a quick death, so the next attempt backs off further.
        slot.startedAt = Date.now();
        this.scheduleRestart(slot);
      });
    }, delay);
  }

  private forget(session: MediaSession, worker: MediaWorker, info: SessionClosedInfo): void {
    this.sessions.delete(session.id);
    worker.sessions.delete(session.id);
    this.emit('sessionClosed', { sessionId: session.id, workerIndex: worker.index, ...info });
  }
}
