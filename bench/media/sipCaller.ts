import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

/** Compact header forms (RFC 3261 §7.3.3) the far end may use. */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  m: 'contact',
  v: 'via',
  l: 'content-length',
  c: 'content-type',
};

interface SipMessage {
  /** Status code of a response; 0 for a request. */
  status: number;
  method: string;
  headers: Map<string, string[]>;
  body: string;
}

/** Timings of one call from the caller's side, on the wall clock (ms). */
export interface OutgoingCall {
  callId: string;
  from: string;
  invitedAt: number;
  ringingAt?: number;
  answeredAt?: number;
  /** Resolves at 180 Ringing. */
  ringing: Promise<void>;
  /** Resolves with the SDP answer of the 200 OK; rejects on a final failure. */
  answered: Promise<string>;
  /** Set when the gateway sent BYE first. */
  endedByGateway: boolean;
  hangup(): Promise<void>;
}

interface Dialog {
  call: OutgoingCall;
  inviteText: string;
  retransmit?: NodeJS.Timeout;
  toHeader?: string;
  remoteTarget?: string;
  ackText?: string;
  onRinging: () => void;
  onAnswer: (sdp: string) => void;
  onFailure: (error: Error) => void;
  onByeAnswered?: () => void;
}

/**
 * A minimal SIP caller over one UDP socket, enough for benchmark calls: INVITE with our SDP
 * (retransmitted until a response, as RFC 3261 Timer A says), ACK of the 200 (again for each
 * retransmitted 200), BYE from our side, and 200 to the gateway's BYE. It takes wall-clock
 * timestamps at the socket, so INVITE→180 and INVITE→200 carry no harness queuing beyond ours.
 */
export class SipCaller {
  private readonly dialogs = new Map<string, Dialog>();
  private readonly local: string;

  private constructor(
    private readonly socket: Socket,
    private readonly target: { host: string; port: number },
  ) {
    this.local = `127.0.0.1:${socket.address().port}`;
    socket.on('message', (data) => this.onMessage(data.toString('utf8')));
  }

  static async open(target: { host: string; port: number }): Promise<SipCaller> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new SipCaller(socket, target);
  }

  invite(options: { from: string; to: string; sdp: string }): OutgoingCall {
    const callId = `${randomBytes(8).toString('hex')}@bench`;
    const uri = `sip:${options.to}@${this.target.host}:${this.target.port}`;
    const fromHeader = `<sip:${options.from}@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`;
    const inviteText = this.request('INVITE', uri, {
      callId,
      from: fromHeader,
      to: `<${uri}>`,
      cseq: 1,
      body: options.sdp,
    });
    const ringing = deferred<void>();
    const answered = deferred<string>();
    const call: OutgoingCall = {
      callId,
      from: options.from,
      invitedAt: 0,
      endedByGateway: false,
      ringing: ringing.promise,
      answered: answered.promise,
      hangup: () => this.hangup(dialog, uri, fromHeader),
    };
    const dialog: Dialog = {
      call,
      inviteText,
      onRinging: () => ringing.resolve(),
      onAnswer: answered.resolve,
      onFailure: answered.reject,
    };
    call.answered.catch(() => undefined);
    this.dialogs.set(callId, dialog);
    call.invitedAt = performance.timeOrigin + performance.now();
    this.send(inviteText);
    let interval = 500;
    const again = (): void => {
      this.send(inviteText);
      interval = Math.min(interval * 2, 4000);
      dialog.retransmit = setTimeout(again, interval);
    };
    dialog.retransmit = setTimeout(again, interval);
    return call;
  }

  close(): void {
    for (const dialog of this.dialogs.values()) clearTimeout(dialog.retransmit);
    this.dialogs.clear();
    this.socket.close();
  }

  private async hangup(dialog: Dialog, uri: string, fromHeader: string): Promise<void> {
    const { call } = dialog;
    clearTimeout(dialog.retransmit);
    if (call.endedByGateway || !dialog.toHeader) {
      this.dialogs.delete(call.callId);
      return;
    }
    const bye = this.request('BYE', dialog.remoteTarget ?? uri, {
      callId: call.callId,
      from: fromHeader,
      to: dialog.toHeader,
      cseq: 2,
    });
    const answered = new Promise<void>((resolve) => {
      dialog.onByeAnswered = resolve;
    });
    // UDP on loopback under load: resend the BYE until it is answered, for up to ~8 s.
    for (let attempt = 0; attempt < 5; attempt++) {
      this.send(bye);
      const done = await Promise.race([
        answered.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 500 * 2 ** Math.min(attempt, 2))),
      ]);
      if (done) break;
    }
    this.dialogs.delete(call.callId);
  }

  private request(
    method: string,
    uri: string,
    o: { callId: string; from: string; to: string; cseq: number; body?: string },
  ): string {
    const body = o.body ?? '';
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.local};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: ${o.from}`,
      `To: ${o.to}`,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq} ${method}`,
      `Contact: <sip:bench@${this.local}>`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return `${lines.join('\r\n')}\r\n\r\n${body}`;
  }

  private send(text: string): void {
    this.socket.send(text, this.target.port, this.target.host);
  }

  private onMessage(text: string): void {
    const at = performance.timeOrigin + performance.now();
    const message = parseSip(text);
    const callId = message.headers.get('call-id')?.[0] ?? '';
    const dialog = this.dialogs.get(callId);
    if (message.status === 0) {
      this.answerRequest(message, dialog);
      return;
    }
    if (!dialog) return;
    const method = /\d+\s+(\w+)/.exec(message.headers.get('cseq')?.[0] ?? '')?.[1];
    if (method === 'BYE') {
      dialog.onByeAnswered?.();
      return;
    }
    if (method !== 'INVITE') return;
    clearTimeout(dialog.retransmit);
    const { call } = dialog;
    if (message.status === 180 && call.ringingAt === undefined) {
      call.ringingAt = at;
      dialog.onRinging();
    } else if (message.status >= 200 && message.status < 300) {
      if (call.answeredAt === undefined) {
        call.answeredAt = at;
        dialog.toHeader = message.headers.get('to')?.[0];
        dialog.remoteTarget = /<([^>]+)>/.exec(message.headers.get('contact')?.[0] ?? '')?.[1];
        const from = /^From: (.*)$/m.exec(dialog.inviteText)?.[1] ?? '';
        dialog.ackText = this.request('ACK', dialog.remoteTarget ?? '', {
          callId,
          from,
          to: dialog.toHeader ?? '',
          cseq: 1,
        });
        dialog.onAnswer(message.body);
      }
      if (dialog.ackText) this.send(dialog.ackText);
    } else if (message.status >= 300) {
      // A non-2xx final response is ACKed by the transaction (same branch as the INVITE).
      const via = /^Via: (.*)$/m.exec(dialog.inviteText)?.[1] ?? '';
      const from = /^From: (.*)$/m.exec(dialog.inviteText)?.[1] ?? '';
      const uri = /^INVITE (\S+)/.exec(dialog.inviteText)?.[1] ?? '';
      this.send(
        [
          `ACK ${uri} SIP/2.0`,
          `Via: ${via}`,
          'Max-Forwards: 70',
          `From: ${from}`,
          `To: ${message.headers.get('to')?.[0] ?? ''}`,
          `Call-ID: ${callId}`,
          'CSeq: 1 ACK',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      this.dialogs.delete(callId);
      dialog.onFailure(new Error(`call refused with ${message.status}`));
    }
  }

  /** Answers the gateway's BYE (or anything else) with 200, echoing the transaction headers. */
  private answerRequest(message: SipMessage, dialog: Dialog | undefined): void {
    if (message.method === 'ACK') return;
    if (message.method === 'BYE' && dialog) dialog.call.endedByGateway = true;
    const h = (name: string) => (message.headers.get(name) ?? []).map((v) => `${name}: ${v}`);
    this.send(
      [
        'SIP/2.0 200 OK',
        ...h('via').map((l) => l.replace(/^via/, 'Via')),
        `From: ${message.headers.get('from')?.[0] ?? ''}`,
        `To: ${message.headers.get('to')?.[0] ?? ''}`,
        `Call-ID: ${message.headers.get('call-id')?.[0] ?? ''}`,
        `CSeq: ${message.headers.get('cseq')?.[0] ?? ''}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  }
}

function parseSip(text: string): SipMessage {
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split < 0 ? text.length : split).split('\r\n');
  const body = split < 0 ? '' : text.slice(split + 4);
  const first = head[0] ?? '';
  const status = /^SIP\/2\.0 (\d{3})/.exec(first);
  const headers = new Map<string, string[]>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  return {
    status: status ? Number(status[1]) : 0,
    method: status ? '' : (first.split(' ')[0] ?? ''),
    headers,
    body,
  };
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
