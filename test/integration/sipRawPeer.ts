/** Raw SIP peers (UDP, TCP, TLS sockets) and a request builder for the sip-engine tests. */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { StreamFramer } from '../../sip/engine/message/streamFramer.js';
import type { SipEngineProcess } from '../support/sipEngineProcess.js';

export const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n';

export interface Peer {
  transport: 'UDP' | 'TCP' | 'TLS';
  localPort: number;
  send(data: string | Buffer): void;
  /** Next SIP message received (text). */
  next(timeoutMs?: number): Promise<string>;
  closed: Promise<unknown>;
  close(): void;
}

/** Collects whole SIP messages from a socket as strings. */
export function inbox(): { push(msg: string): void; next(timeoutMs?: number): Promise<string> } {
  const queue: string[] = [];
  const events = new EventEmitter();
  return {
    push(msg) {
      queue.push(msg);
      events.emit('msg');
    },
    async next(timeoutMs = 5000) {
      const deadline = setTimeout(() => events.emit('timeout'), timeoutMs);
      try {
        while (queue.length === 0) {
          const [event] = await Promise.race([
            once(events, 'msg').then(() => ['msg']),
            once(events, 'timeout').then(() => ['timeout']),
          ]);
          if (event === 'timeout') throw new Error('no SIP message within the deadline');
        }
        return queue.shift() as string;
      } finally {
        clearTimeout(deadline);
      }
    },
  };
}

export async function udpPeer(port: number): Promise<Peer> {
  const socket: UdpSocket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const box = inbox();
  socket.on('message', (m) => box.push(m.toString('utf8')));
  return {
    transport: 'UDP',
    localPort: socket.address().port,
    send: (data) => socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, '127.0.0.1'),
    next: box.next,
    closed: new Promise(() => {}),
    close: () => socket.close(),
  };
}

export async function streamPeer(port: number, tls: boolean): Promise<Peer> {
  const socket: Socket = tls
    ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
    : netConnect({ host: '127.0.0.1', port });
  await once(socket, tls ? 'secureConnect' : 'connect');
  const box = inbox();
  const framer = new StreamFramer();
  socket.on('data', (chunk: Buffer) => {
    for (const item of framer.push(chunk)) if (item.type === 'message') box.push(item.data.toString('utf8'));
  });
  const closed = once(socket, 'close');
  return {
    transport: tls ? 'TLS' : 'TCP',
    localPort: socket.localPort ?? 0,
    send: (data) => socket.write(data),
    next: box.next,
    closed,
    close: () => socket.destroy(),
  };
}

export interface ReqOptions {
  method?: string;
  uri?: string;
  callId?: string;
  toTag?: string;
  cseq?: number;
  omit?: string[];
  extra?: string[];
  body?: string;
  contentLength?: string;
  branch?: string;
}

export function request(
  peer: Peer,
  engine: Pick<SipEngineProcess, 'sipPort' | 'tlsPort'>,
  o: ReqOptions = {},
): string {
  const method = o.method ?? 'OPTIONS';
  const port = peer.transport === 'TLS' ? engine.tlsPort : engine.sipPort;
  const lines = [
    `${method} ${o.uri ?? `sip:service@127.0.0.1:${port}`} SIP/2.0`,
    `Via: SIP/2.0/${peer.transport} 127.0.0.1:${peer.localPort};branch=${o.branch ?? `z9hG4bK${randomBytes(6).toString('hex')}`};rport`,
    'Max-Forwards: 70',
    `From: <sip:raw@127.0.0.1:${peer.localPort}>;tag=rawtag`,
    `To: <sip:service@127.0.0.1:${port}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? randomBytes(8).toString('hex')}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: <sip:raw@127.0.0.1:${peer.localPort};transport=${peer.transport.toLowerCase()}>`,
    ...(o.extra ?? []),
  ].filter((l) => !(o.omit ?? []).some((h) => l.toLowerCase().startsWith(`${h.toLowerCase()}:`)));
  const body = o.body ?? '';
  lines.push(`Content-Length: ${o.contentLength ?? Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export const statusOf = (msg: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(msg)?.[1]);
export const reasonOf = (msg: string): string => /^SIP\/2\.0 \d{3} (.*)\r\n/.exec(msg)?.[1] ?? '';
