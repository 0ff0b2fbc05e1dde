import type { Logger } from 'pino';
import { expiryDelayMs, type Refresher, refreshDelayMs } from './sessionTimerRules.js';

/** The session timer a dialog runs (RFC 4028): its interval and who refreshes it. */
export interface SessionTimer {
  seconds: number;
  refresher: Refresher;
  /**
   * Headers of our 2xx to the far end's refreshes: those of the answer (Session-Expires, and
   * Require: timer only for a far end that supports timers).
   */
  headers: Record<string, string>;
}

/** What the timer needs of its dialog: a refresh re-INVITE with our last SDP, and a BYE. */
export interface SessionTimerDialog {
  /** Sends the refresh (a re-INVITE with our last SDP); resolves with its final status. */
  refresh(): Promise<number>;
  /** The session is over: BYE and the call ended `session_expired`. */
  expire(): void;
}

/**
 * One dialog's session timer (RFC 4028 10), over the pure rules' arithmetic. With the far end as
 * refresher (uac), the session expires at `expiryDelayMs` after the answer or the last refresh
 * (`refreshed()`, on each in-dialog re-INVITE or UPDATE from it). With us as refresher (uas), a
 * re-INVITE goes out at half the interval, and a 408 or 481 to it (or no answer at all) ends the
 * session; other failures leave it up (the far end's policy, not a lost dialog). `stop()` clears
 * every timer; nothing fires after it.
 */
export class DialogSessionTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly session: SessionTimer,
    private readonly dialog: SessionTimerDialog,
    private readonly logger: Logger,
  ) {
    this.arm();
  }

  get refresher(): Refresher {
    return this.session.refresher;
  }

  /** A re-INVITE or UPDATE from the far end: the interval starts again. */
  refreshed(): void {
    if (this.stopped) return;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const { seconds, refresher } = this.session;
    this.timer =
      refresher === 'uac'
        ? setTimeout(() => this.expired('no refresh from the far end'), expiryDelayMs(seconds))
        : setTimeout(() => this.refresh(), refreshDelayMs(seconds));
    this.timer.unref();
  }

  private refresh(): void {
    if (this.stopped) return;
    this.dialog.refresh().then(
      (status) => {
        if (this.stopped) return;
        if (status === 408 || status === 481) this.expired(`refresh answered ${status}`);
        else {
          if (status >= 300) this.logger.warn({ status }, 'session refresh refused; the session goes on');
          this.arm();
        }
      },
      (error: unknown) => {
        if (this.stopped) return;
        this.logger.warn({ err: error }, 'session refresh failed');
        this.expired('refresh failed');
      },
    );
  }

  private expired(why: string): void {
    if (this.stopped) return;
    this.stop();
    this.logger.info({ why, seconds: this.session.seconds }, 'session expired (RFC 4028): BYE');
    this.dialog.expire();
  }
}
