import type { SipRequest, SipResponse } from '../message/messageTypes.js';
import { ServerTransaction } from './serverTransaction.js';
import type { SendOutcome } from './transactionTypes.js';

/**
 * INVITE server transaction (RFC 3261 17.2.1 with RFC 6026's Accepted state: after a 2xx the
 * transaction lives on for 64*T1 to absorb INVITE retransmissions, while the TU's 2xx
 * retransmissions still go out through it). ACKs for 2xx never match it: they carry a new branch.
 */
export class InviteServerTransaction extends ServerTransaction {
  readonly kind = 'invite-server' as const;

  respond(response: SipResponse): Promise<SendOutcome> {
    const { status } = response;
    if (this.state === 'accepted' && status >= 200 && status < 300) return this.transmit(response);
    if (this.state !== 'proceeding') return this.rejectLate();
    this.lastResponse = response;
    if (status < 200) return this.transmit(response);
    if (status < 300) {
      this.setState('accepted');
      this.timers.start('L', 64 * this.config.T1, () => this.terminate());
      return this.transmit(response);
    }
    this.setState('completed');
    if (!this.reliable) this.scheduleG(this.config.T1);
    this.timers.start('H', 64 * this.config.T1, () => {
      if (this.state !== 'completed') return;
      this.emit('timeout');
      this.terminate();
    });
    return this.transmit(response);
  }

  private scheduleG(interval: number): void {
    this.timers.start('G', interval, () => {
      if (this.state !== 'completed' || !this.lastResponse) return;
      void this.transmit(this.lastResponse);
      this.scheduleG(Math.min(interval * 2, this.config.T2));
    });
  }

  receiveRequest(request: SipRequest): void {
    if (request.method === 'ACK') {
      if (this.state !== 'completed') return;
      this.timers.stop('G');
      this.timers.stop('H');
      this.setState('confirmed');
      this.timers.start('I', this.reliable ? 0 : this.config.T4, () => this.terminate());
      return;
    }
    // A retransmitted INVITE: repeat the last provisional/final; in Accepted the TU's own 2xx
    // retransmissions cover it.
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      void this.transmit(this.lastResponse);
    }
  }
}
