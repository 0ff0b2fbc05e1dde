/**
 * RFC 7675 consent freshness on the selected pair: a request every interval randomised ±20%
 * (so that many calls started together do not send in step), and consent lost when no
 * authenticated response has arrived for the timeout. Requests are never retransmitted; the next
 * one is simply a new transaction (§5.1).
 */
export interface ConsentOptions {
  intervalMs: number;
  timeoutMs: number;
  sendRequest: () => void;
  onLost: () => void;
}

export class ConsentFreshness {
  private tick: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;

  constructor(private readonly options: ConsentOptions) {}

  /** Consent was just granted (the nominating check succeeded): start refreshing it. */
  start(): void {
    this.stop();
    this.refreshed();
    this.schedule();
  }

  /** An authenticated success response arrived on the selected pair. */
  refreshed(): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => {
      this.stop();
      this.options.onLost();
    }, this.options.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.tick);
    clearTimeout(this.expiry);
    this.tick = undefined;
    this.expiry = undefined;
  }

  private schedule(): void {
    const wait = this.options.intervalMs * (0.8 + 0.4 * Math.random());
    this.tick = setTimeout(() => {
      this.options.sendRequest();
      this.schedule();
    }, wait);
  }
}
