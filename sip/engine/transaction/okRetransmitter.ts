import type { TimerConfig } from './timerConfig.js';

export interface OkRetransmitterOptions {
  /** Sends the 2xx again (through the INVITE server transaction or the transport). */
  resend: () => unknown;
  /** Over TCP/TLS the 2xx is not resent, but the ACK is still awaited for 64*T1. */
  reliable: boolean;
  timers: TimerConfig;
  /** No ACK within 64*T1: RFC 3261 13.3.1.4 says end the dialog (send BYE). */
  onTimeout: () => void;
}

/**
 * Retransmits a 2xx to an INVITE until its ACK arrives (RFC 3261 13.3.1.4): the UAS core, not
 * the transaction, owns this, because the 2xx ends the INVITE server transaction.
 */
export class OkRetransmitter {
  private retransmitTimer: NodeJS.Timeout | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: OkRetransmitterOptions) {}

  get active(): boolean {
    return this.running;
  }

  /** Call right after the first 2xx went out. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { timers } = this.options;
    if (!this.options.reliable) this.schedule(timers.T1);
    this.giveUpTimer = setTimeout(() => {
      this.stop();
      this.options.onTimeout();
    }, 64 * timers.T1);
  }

  /** The ACK arrived. */
  acknowledge(): void {
    this.stop();
  }

  stop(): void {
    this.running = false;
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
    if (this.giveUpTimer) clearTimeout(this.giveUpTimer);
    this.retransmitTimer = undefined;
    this.giveUpTimer = undefined;
  }

  private schedule(interval: number): void {
    this.retransmitTimer = setTimeout(() => {
      if (!this.running) return;
      this.options.resend();
      this.schedule(Math.min(interval * 2, this.options.timers.T2));
    }, interval);
  }
}
