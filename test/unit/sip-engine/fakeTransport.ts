import type { SipMessage } from '../../../sip/engine/message/messageTypes.js';
import { parseMessage } from '../../../sip/engine/message/parseMessage.js';
import { serializeMessage } from '../../../sip/engine/message/serializeMessage.js';
import type { TransactionTransport } from '../../../sip/engine/transaction/transactionTypes.js';
import { TransportError } from '../../../sip/engine/transport/transportError.js';
import type { Destination, SendResult } from '../../../sip/engine/transport/transportTypes.js';

/** Records every send, re-parsed from its wire bytes so tests see what a peer would see. */
export class FakeTransport implements TransactionTransport {
  readonly sent: Array<{ message: SipMessage; dest: Destination }> = [];
  failNext = false;

  async send(message: SipMessage | Buffer, dest: Destination): Promise<SendResult> {
    if (this.failNext) {
      this.failNext = false;
      throw new TransportError('refused', 'connect-failed');
    }
    const data = Buffer.isBuffer(message) ? message : serializeMessage(message);
    this.sent.push({ message: parseMessage(data), dest: { ...dest } });
    return { data, transport: dest.transport, localAddress: '127.0.0.1', localPort: 5060 };
  }

  /** Summary like "INVITE" or "100" for each sent message. */
  summary(): string[] {
    return this.sent.map(({ message }) =>
      message.kind === 'request' ? message.method : String(message.status),
    );
  }
}
