import type { SipResponse } from '../message/messageTypes.js';
import { ClientTransaction } from './clientTransaction.js';

/** Non-INVITE client transaction (RFC 3261 17.1.2). */
export class NonInviteClientTransaction extends ClientTransaction {
  readonly kind = 'non-invite-client' as const;

  protected start(): void {
    if (!this.reliable) this.scheduleE(this.config.T1);
    this.timers.start('F', 64 * this.config.T1, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.emit('timeout');
      this.terminate();
    });
  }

  private scheduleE(interval: number): void {
    this.timers.start('E', interval, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      void this.transmit(this.request);
      // In Proceeding the interval is T2 regardless of how far the doubling got.
      const next = this.state === 'proceeding' ? this.config.T2 : Math.min(interval * 2, this.config.T2);
      this.scheduleE(next);
    });
  }

  receiveResponse(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    if (response.status < 200) {
      if (this.state === 'trying' && !this.reliable) {
        this.setState('proceeding');
        this.scheduleE(this.config.T2);
      }
      this.setState('proceeding');
      this.emit('response', response);
      return;
    }
    this.timers.stop('E');
    this.timers.stop('F');
    this.setState('completed');
    this.emit('response', response);
    this.timers.start('K', this.reliable ? 0 : this.config.T4, () => this.terminate());
  }
}
