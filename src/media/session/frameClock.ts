import type { FrameClockOptions, FrameListener } from './frameClockTypes.js';

const DEFAULT_FRAME_MS = 20;
/** Ticks run back to back after a stall before the clock gives up on the time it lost. */
const DEFAULT_MAX_CATCH_UP = 5;

/**
 * One 20 ms clock for every session of a worker. Deadlines are computed from the start, never
 * from the previous firing, so the clock does not drift late the way setInterval does: the SIP
 * leg must consume and produce audio at exactly the rate LiveKit and the peer do. A stall (GC,
 * a busy loop) is caught up with back-to-back ticks, up to a bound; beyond it the lost time is
 * skipped rather than bursting seconds of packets at the peer.
 *
 * One timer per worker instead of one per session: the work per tick is the same, the timer
 * wake-ups are not.
 */
export class FrameClock {
  private readonly listeners = new Set<FrameListener>();
  private readonly frameMs: number;
  private readonly maxCatchUp: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private ticks = 0;

  constructor(options: FrameClockOptions = {}) {
    this.frameMs = options.frameMs ?? DEFAULT_FRAME_MS;
    this.maxCatchUp = options.maxCatchUp ?? DEFAULT_MAX_CATCH_UP;
    this.now = options.now ?? (() => performance.now());
    this.onError = options.onError ?? (() => {});
  }

  get running(): boolean {
    return this.timer !== null;
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Starts ticking `listener`; the clock itself starts with its first listener. */
  add(listener: FrameListener): void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.startedAt = this.now();
      this.ticks = 0;
      this.schedule();
    }
  }

  /** Stops ticking `listener` (safe from inside a tick); the clock stops with its last one. */
  delete(listener: FrameListener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    const due = this.startedAt + (this.ticks + 1) * this.frameMs;
    this.timer = setTimeout(() => this.run(), Math.max(0, due - this.now()));
  }

  private run(): void {
    const now = this.now();
    let behind = Math.floor((now - this.startedAt) / this.frameMs) - this.ticks;
    if (behind > this.maxCatchUp) {
      this.ticks += behind - this.maxCatchUp;
      behind = this.maxCatchUp;
    }
    for (let i = 0; i < behind && this.timer; i++) {
      this.ticks++;
      for (const listener of this.listeners) {
        try {
          listener(now);
        } catch (error) {
          this.onError(error);
        }
      }
    }
    if (this.timer) this.schedule();
  }
}
