/** Called once per frame with the clock's current time (ms, monotonic). */
export type FrameListener = (nowMs: number) => void;

export interface FrameClockOptions {
  /** Frame length (default 20 ms). */
  frameMs?: number;
  /** Ticks run back to back after a stall at most (default 5); older lost ticks are skipped. */
  maxCatchUp?: number;
  /** Monotonic clock (default performance.now); injected by tests. */
  now?: () => number;
  /** A listener threw; the other listeners still tick. */
  onError?: (error: unknown) => void;
}
