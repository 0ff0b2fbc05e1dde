import type { SipMessage } from '../message/messageTypes.js';
import type { MessageTotals } from './coreTypes.js';

const STATUS_LINE = /^SIP\/2\.0 (\d{3})/;
const REQUEST_LINE = /^([A-Za-z]+) /;

/** Methods counted by name; any other is `other`, so a stream of made-up methods adds no series. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'INFO',
  'PRACK',
  'UPDATE',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'PUBLISH',
]);

function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

function bump(table: Record<string, number>, key: string): void {
  table[key] = (table[key] ?? 0) + 1;
}

/** Counts SIP messages by direction and method/status, for metrics. */
export class MessageStats {
  private readonly totals: MessageTotals = {
    requestsIn: {},
    requestsOut: {},
    responsesIn: {},
    responsesOut: {},
  };
  parseErrors = 0;

  incoming(msg: SipMessage): void {
    if (msg.kind === 'request') bump(this.totals.requestsIn, methodLabel(msg.method));
    else bump(this.totals.responsesIn, String(msg.status));
  }

  outgoing(msg: SipMessage | Buffer): void {
    if (!Buffer.isBuffer(msg)) {
      if (msg.kind === 'request') bump(this.totals.requestsOut, methodLabel(msg.method));
      else bump(this.totals.responsesOut, String(msg.status));
      return;
    }
    // Pre-serialised messages (replies to malformed requests) are only looked at up to the first line.
    const line = msg.subarray(0, 64).toString('latin1');
    const status = STATUS_LINE.exec(line);
    if (status?.[1]) bump(this.totals.responsesOut, status[1]);
    else {
      const method = REQUEST_LINE.exec(line)?.[1];
      if (method) bump(this.totals.requestsOut, methodLabel(method));
    }
  }

  snapshot(): MessageTotals {
    return {
      requestsIn: { ...this.totals.requestsIn },
      requestsOut: { ...this.totals.requestsOut },
      responsesIn: { ...this.totals.responsesIn },
      responsesOut: { ...this.totals.responsesOut },
    };
  }
}
