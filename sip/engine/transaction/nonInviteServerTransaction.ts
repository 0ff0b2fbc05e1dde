import type { SipRequest, SipResponse } from '../message/messageTypes.js';
import { ServerTransaction } from './serverTransaction.js';
import type { SendOutcome } from './transactionTypes.js';

/**
 * Non-INVITE server transaction (RFC 3261 17.2.2). One addition to the RFC: if the TU has not
 * sent a final response within 64*T1, the client has long given up (timer F), so the
 * transaction ends with `timeout` instead of living on forever.
 */
export class NonInviteServerTransaction extends ServerTransaction {
  readonly kind = 'non-invite-server' as const;

  /** Called by the layer once the transaction is registered. */
  startGuard(): void {
    this.timers.start('guard', 64 * this.config.T1, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.emit('timeout');
      this.terminate();
    });
  }

  respond(response: SipResponse): Promise<SendOutcome> {
    if (this.state !== 'trying' && this.state !== 'proceeding') return this.rejectLate();
    this.lastResponse = response;
    if (response.status < 200) {
      this.setState('proceeding');
    } else {
      this.setState('completed');
      this.timers.stop('guard');
      this.timers.start('J', this.reliable ? 0 : 64 * this.config.T1, () => this.terminate());
    }
    return this.transmit(response);
  }

  receiveRequest(_request: SipRequest): void {
    // In Trying a retransmission is absorbed: the TU has not answered yet.
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      void this.transmit(this.lastResponse);
    }
  }
}
