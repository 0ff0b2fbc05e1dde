import type { SipResponse } from '../message/messageTypes.js';
import { ClientTransaction } from './clientTransaction.js';
import { buildNon2xxAck } from './requestBuilders.js';

/**
 * INVITE client transaction (RFC 3261 17.1.1 with the Accepted state of RFC 6026, so that 2xx
 * retransmissions keep reaching the TU, which must re-ACK them).
 */
export class InviteClientTransaction extends ClientTransaction {
  readonly kind = 'invite-client' as const;
  private ack: ReturnType<typeof buildNon2xxAck> | undefined;

  protected start(): void {
    if (!this.reliable) this.scheduleA(this.config.T1);
    this.timers.start('B', 64 * this.config.T1, () => {
      if (this.state !== 'calling' && this.state !== 'proceeding') return;
      this.emit('timeout');
      this.terminate();
    });
  }

  private scheduleA(interval: number): void {
    this.timers.start('A', interval, () => {
      if (this.state !== 'calling') return;
      void this.transmit(this.request);
      this.scheduleA(interval * 2);
    });
  }

  receiveResponse(response: SipResponse): void {
    const { status } = response;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          this.timers.stop('A');
          this.setState('proceeding');
          this.emit('response', response);
        } else if (status < 300) {
          this.timers.stop('A');
          this.timers.stop('B');
          this.setState('accepted');
          this.timers.start('M', 64 * this.config.T1, () => this.terminate());
          this.emit('response', response);
        } else {
          this.timers.stop('A');
          this.timers.stop('B');
          this.setState('completed');
          this.ack = buildNon2xxAck(this.request, response);
          void this.transmit(this.ack);
          this.emit('response', response);
          this.timers.start('D', this.reliable ? 0 : this.config.timerD, () => this.terminate());
        }
        break;
      case 'accepted':
        if (status >= 200 && status < 300) this.emit('response', response);
        break;
      case 'completed':
        // A retransmitted final means our ACK was lost: send it again, tell nobody.
        if (status >= 300 && this.ack) void this.transmit(this.ack);
        break;
      default:
        break;
    }
  }
}
