import type { Logger } from 'pino';
import type { CallPhase } from './callPhases.js';
import type { CallQualityBook } from './callQuality.js';
import type { CallService } from './callService.js';
import { type Call, isFinal } from './callTypes.js';
import { LiveCall } from './liveCall.js';

/**
 * The gateway's live calls, one LiveCall each, by call id: from the moment a call is created
 * until its end is recorded. Whatever records a final status (a LiveCall's own end, or the call
 * service for any other reason) closes the call here, so no live object outlives its call.
 */
export class CallRegistry {
  private readonly live = new Map<string, LiveCall>();
  /** Who waits for the last live call to end (a draining shutdown). */
  private readonly emptyWaiters: (() => void)[] = [];

  constructor(
    private readonly calls: CallService,
    private readonly logger: Logger,
    /** Where answered calls' leg quality is followed; not followed when absent. */
    private readonly quality?: CallQualityBook,
  ) {
    calls.on('transition', (call) => {
      if (isFinal(call.status)) this.live.get(call.id)?.close(`call ended (${call.endReason})`);
    });
  }

  /** The live object of a call just created. */
  open(call: Pick<Call, 'id' | 'appId'>): LiveCall {
    const live = new LiveCall(call.id, call.appId, {
      calls: this.calls,
      logger: this.logger,
      ...(this.quality ? { quality: this.quality } : {}),
      onClosed: (closed) => {
        if (this.live.get(closed.id) === closed) this.live.delete(closed.id);
        if (this.live.size === 0) for (const resolve of this.emptyWaiters.splice(0)) resolve();
      },
    });
    this.live.set(call.id, live);
    return live;
  }

  get(callId: string): LiveCall | undefined {
    return this.live.get(callId);
  }

  all(): LiveCall[] {
    return [...this.live.values()];
  }

  get size(): number {
    return this.live.size;
  }

  /**
   * Resolves once no call is live (each ended its own way), or after `timeoutMs`: a draining
   * gateway lets its calls finish before it ends the rest.
   */
  async drained(timeoutMs: number): Promise<void> {
    if (this.live.size === 0 || timeoutMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    let waiter = (): void => {};
    await Promise.race([
      new Promise<void>((resolve) => {
        waiter = resolve;
        this.emptyWaiters.push(resolve);
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // Out of time: nobody waits any more.
    const index = this.emptyWaiters.indexOf(waiter);
    if (index >= 0) this.emptyWaiters.splice(index, 1);
  }

  /**
   * The gateway is stopping: every live call ends now (ringing ones are refused, answered ones get
   * their BYE). Resolves once each far end was told, or after `graceMs`, whichever is first: a far
   * end that never answers its BYE must not hold the stop.
   */
  async shutdown(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    await Promise.race([Promise.all(this.all().map((call) => call.shutdown())), grace]);
    clearTimeout(timer);
  }

  /** How many live calls are in each phase (for metrics). */
  countByPhase(): Record<CallPhase, number> {
    const counts: Record<CallPhase, number> = { ringing: 0, answering: 0, answered: 0, ending: 0 };
    for (const call of this.live.values()) counts[call.phase]++;
    return counts;
  }
}
