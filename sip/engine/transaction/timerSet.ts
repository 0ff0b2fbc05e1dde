/** Named one-shot timers of one transaction, so a state change can cancel exactly what it must. */
export class TimerSet {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  start(name: string, ms: number, fn: () => void): void {
    this.stop(name);
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  stop(name: string): void {
    const t = this.timers.get(name);
    if (t) {
      clearTimeout(t);
      this.timers.delete(name);
    }
  }

  stopAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
