import type { Logger } from 'pino';
import {
  expiryDelayMs,
  glareRetryDelayMs,
  parseMinSe,
  type Refresher,
  type RefreshMethod,
  refreshDelayMs,
} from './sessionTimerRules.js';

/** The session timer a dialog runs (RFC 4028): its interval and who refreshes it. */
export interface SessionTimer {
  seconds: number;
  /** The refresher as the dialog-creating INVITE's transaction named it (uac: its sender). */
  refresher: Refresher;
  /**
   * Our side of that INVITE: `uas` for an inbound call (the default), `uac` for our own INVITE.
   * We refresh when the refresher is our side.
   */
  role?: Refresher;
  /**
   * Headers of our 2xx to the far end's refreshes: those of the answer (Session-Expires, and
   * Require: timer only for a far end that supports timers).
   */
  headers: Record<string, string>;
  /** How we refresh where we are the refresher (default INVITE: a re-INVITE with our last SDP). */
  refreshMethod?: RefreshMethod;
  /** The Min-SE our refreshes carry. */
  minSeSeconds?: number;
}

/** A refresh of ours as sent: the method and interval, with the headers that say so. */
export interface SessionRefresh {
  method: RefreshMethod;
  seconds: number;
  minSeSeconds: number | undefined;
}

/** The final response to a refresh of ours: its status, and Min-SE (read on a 422). */
export interface RefreshAnswer {
  status: number;
  minSe?: string | undefined;
}

/** What the timer needs of its dialog: a refresh (UPDATE or re-INVITE), and a BYE. */
export interface SessionTimerDialog {
  /** Sends the refresh; resolves with its final response, rejects when none came. */
  refresh(refresh: SessionRefresh): Promise<RefreshAnswer>;
  /** The session is over: BYE and the call ended `session_expired`. */
  expire(): void;
}

/** Refreshes sent again within one refresh point (422 raising the interval, 491, UPDATE refused). */
const MAX_RETRIES = 3;

/**
 * One dialog's session timer (RFC 4028 10), over the pure rules' arithmetic. With the far end as
 * refresher, the session expires at `expiryDelayMs` after the answer or the last refresh
 * (`refreshed()`, on each in-dialog re-INVITE or UPDATE from it). With us as refresher, a refresh
 * goes out at half the interval: an UPDATE where `refreshMethod` says so, else a re-INVITE.
 *
 * Its answer: 2xx re-arms; 408 or 481 (or no answer at all) ends the session; 422 sends it again
 * at once with the interval raised to the 422's Min-SE (RFC 4028 7.4); 491 (glare) sends it again
 * after RFC 3261 14.1's random wait; an UPDATE refused 405/501 falls back to re-INVITE for good;
 * other failures leave the session up and re-armed (the far end's policy, not a lost dialog).
 * `stop()` clears every timer; nothing fires after it.
 */
export class DialogSessionTimer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private seconds: number;
  private method: RefreshMethod;
  private minSeSeconds: number | undefined;

  constructor(
    private readonly session: SessionTimer,
    private readonly dialog: SessionTimerDialog,
    private readonly logger: Logger,
    /** Math.random, or a test's: the wait after a 491. */
    private readonly random: () => number = Math.random,
  ) {
    this.seconds = session.seconds;
    this.method = session.refreshMethod ?? 'INVITE';
    this.minSeSeconds = session.minSeSeconds;
    this.arm();
  }

  /** Whether we are the refresher (else the far end is). */
  get weRefresh(): boolean {
    return this.session.refresher === (this.session.role ?? 'uas');
  }

  /**
   * Headers of our 2xx to a re-INVITE or UPDATE from the far end: its sender is that
   * transaction's UAC, so the refresher is `uas` while we refresh and `uac` while it does.
   */
  get answerHeaders(): Record<string, string> {
    return {
      ...this.session.headers,
      'Session-Expires': `${this.seconds};refresher=${this.weRefresh ? 'uas' : 'uac'}`,
    };
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
    this.schedule(
      this.weRefresh
        ? { delayMs: refreshDelayMs(this.seconds), run: () => this.refresh(0) }
        : {
            delayMs: expiryDelayMs(this.seconds),
            run: () => this.expired('no refresh from the far end'),
          },
    );
  }

  private schedule({ delayMs, run }: { delayMs: number; run: () => void }): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(run, delayMs);
    this.timer.unref();
  }

  private refresh(retries: number): void {
    if (this.stopped) return;
    const sent: SessionRefresh = {
      method: this.method,
      seconds: this.seconds,
      minSeSeconds: this.minSeSeconds,
    };
    this.dialog.refresh(sent).then(
      (answer) => this.answered(sent, answer, retries),
      (error: unknown) => {
        if (this.stopped) return;
        this.logger.warn({ err: error, method: sent.method }, 'session refresh failed');
        this.expired('refresh failed');
      },
    );
  }

  private answered(sent: SessionRefresh, { status, minSe }: RefreshAnswer, retries: number): void {
    if (this.stopped) return;
    if (status < 300) {
      this.arm();
      return;
    }
    if (status === 408 || status === 481) {
      this.expired(`refresh answered ${status}`);
      return;
    }
    const again = retries < MAX_RETRIES ? this.retry(sent, status, minSe) : undefined;
    if (again) {
      this.logger.info(
        { status, method: sent.method, ...again.log },
        'session refresh refused: sending it again',
      );
      if (again.delayMs === 0) this.refresh(retries + 1);
      else this.schedule({ delayMs: again.delayMs, run: () => this.refresh(retries + 1) });
      return;
    }
    this.logger.warn({ status, method: sent.method }, 'session refresh refused; the session goes on');
    this.arm();
  }

  /** Whether (and when) a refused refresh goes out again, having taken in what its refusal says. */
  private retry(
    sent: SessionRefresh,
    status: number,
    minSe: string | undefined,
  ): { delayMs: number; log: Record<string, unknown> } | undefined {
    if (status === 422) {
      const raised = parseMinSe(minSe);
      if (raised === undefined || raised <= sent.seconds) return undefined;
      this.seconds = raised;
      this.minSeSeconds = raised;
      return { delayMs: 0, log: { seconds: raised } };
    }
    if (status === 491) {
      // The dialog's Call-ID is ours when we sent the INVITE that made it.
      return { delayMs: glareRetryDelayMs(this.session.role === 'uac', this.random), log: {} };
    }
    if (sent.method === 'UPDATE' && (status === 405 || status === 501)) {
      // Its Allow said UPDATE, its answer says otherwise: re-INVITE from now on.
      this.method = 'INVITE';
      return { delayMs: 0, log: { fallback: 'INVITE' } };
    }
    return undefined;
  }

  private expired(why: string): void {
    if (this.stopped) return;
    this.stop();
    this.logger.info({ why, seconds: this.seconds }, 'session expired (RFC 4028): BYE');
    this.dialog.expire();
  }
}
