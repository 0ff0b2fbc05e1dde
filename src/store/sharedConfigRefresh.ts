import type { Logger } from 'pino';

/** Something held in memory that other nodes may change in the shared store. */
export interface Refreshable {
  name: string;
  refresh(): Promise<unknown>;
}

/**
 * On a store several nodes share, each node keeps calling configurations and SIP routing in
 * memory (every call reads them, synchronously); this reads them again every `intervalMs`, so a
 * change made through another node's API applies here within that time. Polling the database
 * rather than a notification: it needs nothing beside the store, and a node that missed a
 * message (Redis away, just restarted) cannot stay wrong.
 */
export class SharedConfigRefresh {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failing = false;

  constructor(
    private readonly parts: readonly Refreshable[],
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One refresh of every part (a tick; tests call it directly). */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const part of this.parts) await part.refresh();
      if (this.failing) this.logger.info('shared configuration read again');
      this.failing = false;
    } catch (error) {
      // The store away: what is in memory stays in force; logged once per outage.
      if (!this.failing)
        this.logger.warn({ err: error }, 'could not read shared configuration; keeping what is known');
      this.failing = true;
    } finally {
      this.running = false;
    }
  }
}
