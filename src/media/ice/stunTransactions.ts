import type { IceEndpoint } from './iceTypes.js';

export interface TransactionStart<T> {
  id: Buffer;
  packet: Buffer;
  to: IceEndpoint;
  context: T;
  /** Sends in all, the first included. */
  attempts: number;
  /** Wait before the first retransmission; it doubles after each (RFC 5389 §7.2.1). */
  rtoMs: number;
  /** Called once no response has come within the wait after the last send. */
  onTimeout: (context: T) => void;
}

interface Pending<T> {
  context: T;
  timer: NodeJS.Timeout;
}

/** Outstanding client transactions, keyed by transaction id, with their retransmission timers. */
export class StunTransactions<T> {
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly send: (data: Buffer, to: IceEndpoint) => void) {}

  start(t: TransactionStart<T>): void {
    const key = t.id.toString('hex');
    const attempt = (sent: number, wait: number): void => {
      this.send(t.packet, t.to);
      const timer = setTimeout(() => {
        if (sent + 1 < t.attempts) {
          attempt(sent + 1, wait * 2);
          return;
        }
        this.pending.delete(key);
        t.onTimeout(t.context);
      }, wait);
      this.pending.set(key, { context: t.context, timer });
    };
    attempt(0, t.rtoMs);
  }

  /** The context of the transaction a response answers, which is then over; undefined if none is pending. */
  take(id: Buffer): T | undefined {
    const key = id.toString('hex');
    const entry = this.pending.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    return entry.context;
  }

  /** The context without ending the transaction, so a response that fails authentication changes nothing. */
  peek(id: Buffer): T | undefined {
    return this.pending.get(id.toString('hex'))?.context;
  }

  /** Stops the transactions whose context matches, without calling their timeouts. */
  cancelWhere(match: (context: T) => boolean): void {
    for (const [key, entry] of this.pending) {
      if (!match(entry.context)) continue;
      clearTimeout(entry.timer);
      this.pending.delete(key);
    }
  }

  clear(): void {
    this.cancelWhere(() => true);
  }
}
