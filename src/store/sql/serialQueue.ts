/**
 * Runs async jobs one at a time, in the order they were pushed: the store's writes and
 * transactions, so none overlaps another and commits keep their order.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** True when no job is running or waiting. */
  get idle(): boolean {
    return this.waiting === 0;
  }

  get length(): number {
    return this.waiting;
  }

  push<T>(job: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    const run = this.tail.then(job);
    // The next job waits for this one to settle, whether it succeeded or not.
    this.tail = run.then(
      () => this.done(),
      () => this.done(),
    );
    return run;
  }

  /** Resolves once every job pushed so far has settled. */
  drained(): Promise<void> {
    return this.tail.then(() => undefined);
  }

  private done(): void {
    this.waiting -= 1;
  }
}
