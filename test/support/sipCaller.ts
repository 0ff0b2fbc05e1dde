import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

const RETRANSMIT_MS = 500;

interface SipMessage {
  firstLine: string;
  headers: Map<string, string>;
  /** Every value of the headers that may repeat (Via, Record-Route), in order. */
  repeated: Map<string, string[]>;
  body: string;
}

/** Full names of the compact header forms a SIP server may use. */
const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
};

/**
 * A SIP caller over UDP for tests that bring their own RTP endpoint (RtpPeer): one call with the
 * SDP it is given, INVITE retransmitted until answered, ACK, BYE. In-dialog requests from the far
 * end are answered 200 (a BYE ends the call). A Record-Route in the answer (a proxy such as
 * Kamailio) becomes the dialog's route set. Just enough of RFC 3261 for loopback tests.
 */
export class SipCaller {
  private readonly callId = `${randomBytes(8).toString('hex')}@127.0.0.1`;
  private readonly fromTag = randomBytes(4).toString('hex');
  private cseq = 1;
  private toHeader = '';
  private requestUri = '';
  /** The dialog's route set (from the 2xx's Record-Route, reversed): a proxy in the path, e.g. Kamailio. */
  private routeSet: string[] = [];
  private readonly waiters = new Map<string, (response: SipMessage) => void>();
  /** Transactions a provisional response answered: retransmitting stops (timer A ends). */
  private readonly proceeding = new Set<string>();
  private closed = false;
  /** Set once the far end sent BYE. */
  endedByFarEnd = false;

  private constructor(
    private readonly socket: Socket,
    private readonly target: { host: string; port: number },
    private readonly user: string,
  ) {
    socket.on('message', (data) => this.onMessage(parse(data.toString('utf8'))));
  }

  static async open(target: { host: string; port: number }, user: string): Promise<SipCaller> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new SipCaller(socket, target, user);
  }

  private get localPort(): number {
    return this.socket.address().port;
  }

  /** Calls `number` offering `sdp`; resolves with the answer's SDP once 200 OK came and was ACKed. */
  async invite(number: string, sdp: string): Promise<string> {
    const uri = `sip:${number}@${this.target.host}:${this.target.port}`;
    this.toHeader = `<${uri}>`;
    const branch = newBranch();
    const response = await this.transaction(
      branch,
      this.request('INVITE', uri, branch, this.cseq, ['Content-Type: application/sdp'], sdp),
    );
    const status = statusOf(response);
    const to = response.headers.get('to') ?? this.toHeader;
    if (status >= 300) {
      this.send(this.request('ACK', uri, branch, this.cseq, [], '', to));
      throw new Error(
        `INVITE refused: ${response.firstLine} (${response.headers.get('reason') ?? 'no Reason'})`,
      );
    }
    this.toHeader = to;
    this.requestUri = /<([^>]+)>/.exec(response.headers.get('contact') ?? '')?.[1] ?? uri;
    this.routeSet = (response.repeated.get('record-route') ?? [])
      .flatMap((value) => value.split(/,(?=\s*<)/).map((route) => route.trim()))
      .reverse();
    this.send(this.request('ACK', this.requestUri, newBranch(), this.cseq, []));
    return response.body;
  }

  /** Sends BYE and resolves on its final response. */
  async hangUp(): Promise<number> {
    const cseq = ++this.cseq;
    const branch = newBranch();
    const response = await this.transaction(branch, this.request('BYE', this.requestUri, branch, cseq, []));
    return statusOf(response);
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  /** Sends a request until a final response with its branch arrives (provisional ones stop nothing). */
  private async transaction(branch: string, message: string): Promise<SipMessage> {
    const final = new Promise<SipMessage>((resolve) => this.waiters.set(branch, resolve));
    this.send(message);
    const timer = setInterval(() => {
      if (!this.proceeding.has(branch)) this.send(message);
    }, RETRANSMIT_MS);
    try {
      return await final;
    } finally {
      clearInterval(timer);
      this.waiters.delete(branch);
      this.proceeding.delete(branch);
    }
  }

  private request(
    method: string,
    uri: string,
    branch: string,
    cseq: number,
    extra: string[],
    body = '',
    to = this.toHeader,
  ): string {
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.user}@127.0.0.1:${this.localPort}>;tag=${this.fromTag}`,
      `To: ${to}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:${this.user}@127.0.0.1:${this.localPort}>`,
      ...(method === 'INVITE' ? [] : this.routeSet.map((route) => `Route: ${route}`)),
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  private onMessage(message: SipMessage): void {
    if (message.firstLine.startsWith('SIP/2.0')) {
      const status = statusOf(message);
      const branch = /branch=([^;,\s]+)/.exec(message.headers.get('via') ?? '')?.[1] ?? '';
      const waiter = this.waiters.get(branch);
      if (status < 200 && waiter) this.proceeding.add(branch);
      else if (status >= 200 && waiter) waiter(message);
      else if (status >= 200 && status < 300 && /INVITE/.test(message.headers.get('cseq') ?? ''))
        // Our ACK was lost or late: the 200 comes again, and is ACKed again.
        this.send(this.request('ACK', this.requestUri, newBranch(), this.cseq, []));
      return;
    }
    if (message.firstLine.startsWith('BYE')) this.endedByFarEnd = true;
    if (message.firstLine.startsWith('ACK')) return;
    // Every Via, so the answer finds its way back through a proxy too.
    const vias = (message.repeated.get('via') ?? []).map((via) => `Via: ${via}`);
    const copy = ['from', 'to', 'call-id', 'cseq'].map(
      (name) =>
        `${name === 'call-id' ? 'Call-ID' : name[0]?.toUpperCase() + name.slice(1)}: ${message.headers.get(name) ?? ''}`,
    );
    this.send(['SIP/2.0 200 OK', ...vias, ...copy, 'Content-Length: 0', '', ''].join('\r\n'));
  }

  private send(text: string): void {
    if (!this.closed) this.socket.send(text, this.target.port, this.target.host);
  }
}

function newBranch(): string {
  return `z9hG4bK${randomBytes(6).toString('hex')}`;
}

function statusOf(message: SipMessage): number {
  return Number(/^SIP\/2\.0 (\d{3})/.exec(message.firstLine)?.[1] ?? 0);
}

function parse(text: string): SipMessage {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const [firstLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    // The first Via is ours; keep the first of any repeated header.
    if (!headers.has(name)) headers.set(name, value);
    if (name === 'via' || name === 'record-route') repeated.set(name, [...(repeated.get(name) ?? []), value]);
  }
  return { firstLine, headers, repeated, body: split < 0 ? '' : text.slice(split + 4) };
}
