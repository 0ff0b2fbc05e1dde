import { randomUUID } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ParseOptions, SipMessage } from '../message/messageTypes.js';
import { parseMessage } from '../message/parseMessage.js';
import { serializeMessage } from '../message/serializeMessage.js';
import { SipParseError } from '../message/sipParseError.js';
import { addressFamily, guessReachableAddress, isUnspecified, normalizeAddress } from './addressUtils.js';
import { ConnectionRegistry } from './connectionRegistry.js';
import { stampReceived } from './stampVia.js';
import { StreamConnection } from './streamConnection.js';
import { StreamListener } from './streamListener.js';
import { TransportError } from './transportError.js';
import type {
  BoundListener,
  ConnectionCounts,
  Destination,
  ListenContact,
  MessageSource,
  SendResult,
  TransportEvents,
  TransportLayerOptions,
  TransportProtocol,
} from './transportTypes.js';
import { UdpListener } from './udpListener.js';

const DEFAULT_IDLE_MS = 5 * 60_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The SIP transport layer (RFC 3261 18): UDP, TCP and TLS listeners, connection reuse and
 * cleanup, received/rport stamping. Hands parsed messages up; knows nothing of transactions.
 */
export class TransportLayer extends EventEmitter<TransportEvents> {
  private readonly udp: UdpListener[] = [];
  private readonly streams: StreamListener[] = [];
  private readonly bound: BoundListener[] = [];
  private readonly connections = new ConnectionRegistry();
  private readonly connecting = new Map<string, Promise<StreamConnection>>();
  private readonly parseOptions: ParseOptions;
  private readonly idleMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: TransportLayerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
    this.parseOptions = {};
    if (options.maxHeaderBytes !== undefined) this.parseOptions.maxHeaderBytes = options.maxHeaderBytes;
    if (options.maxBodyBytes !== undefined) this.parseOptions.maxBodyBytes = options.maxBodyBytes;
  }

  async listen(contacts: ListenContact[]): Promise<BoundListener[]> {
    const added: BoundListener[] = [];
    for (const c of contacts) {
      let port: number;
      if (c.transport === 'udp') {
        const l = await UdpListener.bind(
          c.host,
          c.port,
          (data, rinfo, listener) => this.onDatagram(data, rinfo, listener),
          (err) => this.emit('socketError', err),
        );
        this.udp.push(l);
        port = l.port;
      } else {
        const l = await StreamListener.listen(
          c.transport,
          c.host,
          c.port,
          this.options.tls,
          (socket) => this.adopt(socket, c.transport as 'tcp' | 'tls', 'inbound'),
          (err) => this.emit('socketError', err),
        );
        this.streams.push(l);
        port = l.port;
      }
      const b: BoundListener = { transport: c.transport, host: c.host, port };
      if (c.advertisedHost !== undefined) b.advertisedHost = c.advertisedHost;
      this.bound.push(b);
      added.push(b);
    }
    this.startSweep();
    return added;
  }

  boundListeners(): readonly BoundListener[] {
    return this.bound;
  }

  connectionCounts(): ConnectionCounts {
    return this.connections.counts();
  }

  /**
   * Host and port to put in Via sent-by and Contact for a message leaving on `transport`
   * (towards `remoteAddress`, whose family picks between IPv4 and IPv6 listeners).
   */
  sentBy(transport: TransportProtocol, remoteAddress?: string): { host: string; port: number } {
    const l = this.pickListener(transport, remoteAddress);
    if (!l) throw new TransportError(`no ${transport} listener`, 'no-listener');
    const host =
      l.advertisedHost ?? (isUnspecified(l.host) ? guessReachableAddress(addressFamily(l.host)) : l.host);
    return { host, port: l.port };
  }

  hasTransport(transport: TransportProtocol): boolean {
    return this.bound.some((b) => b.transport === transport);
  }

  async send(message: SipMessage | Buffer, dest: Destination): Promise<SendResult> {
    if (this.closed) throw new TransportError('transport layer closed', 'closed');
    const data = Buffer.isBuffer(message) ? message : serializeMessage(message);
    if (dest.transport === 'udp') {
      const l = this.udp.find((u) => u.family === addressFamily(dest.address)) ?? this.udp[0];
      if (!l) throw new TransportError('no udp listener', 'no-listener');
      await l.send(data, dest.address, dest.port);
      return { data, transport: 'udp', localAddress: l.host, localPort: l.port };
    }
    const conn = await this.connectionFor(dest);
    await conn.write(data);
    return {
      data,
      transport: dest.transport,
      localAddress: conn.info.localAddress,
      localPort: conn.info.localPort,
      connectionId: conn.info.id,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const c of this.connections.all()) c.close();
    await Promise.all([...this.udp.map((u) => u.close()), ...this.streams.map((s) => s.close())]);
    this.udp.length = 0;
    this.streams.length = 0;
    this.bound.length = 0;
  }

  private pickListener(transport: TransportProtocol, remoteAddress?: string): BoundListener | undefined {
    const candidates = this.bound.filter((b) => b.transport === transport);
    if (remoteAddress === undefined) return candidates[0];
    const family = addressFamily(remoteAddress);
    return candidates.find((b) => addressFamily(b.host) === family) ?? candidates[0];
  }

  private async connectionFor(dest: Destination): Promise<StreamConnection> {
    const transport = dest.transport as 'tcp' | 'tls';
    if (dest.connectionId) {
      const existing = this.connections.get(dest.connectionId);
      if (existing) return existing;
    }
    const address = normalizeAddress(dest.address);
    const existing = this.connections.findByRemote(transport, address, dest.port);
    if (existing) return existing;
    const key = `${transport}|${address}|${dest.port}`;
    let pending = this.connecting.get(key);
    if (!pending) {
      pending = this.open(transport, address, dest.port, dest.servername)
        .then((conn) => {
          // The destination may name the peer differently from the socket (e.g. a host name).
          this.connections.alias(transport, address, dest.port, conn);
          return conn;
        })
        .finally(() => this.connecting.delete(key));
      this.connecting.set(key, pending);
    }
    return pending;
  }

  private open(
    transport: 'tcp' | 'tls',
    address: string,
    port: number,
    servername?: string,
  ): Promise<StreamConnection> {
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let socket: Socket;
      const readyEvent = transport === 'tls' ? 'secureConnect' : 'connect';
      if (transport === 'tls') {
        const client = this.options.tlsClient ?? {};
        socket = tlsConnect({
          host: address,
          port,
          rejectUnauthorized: client.rejectUnauthorized ?? true,
          ...(client.ca !== undefined ? { ca: client.ca } : {}),
          // SNI must be a host name; node rejects an IP literal there.
          ...(servername !== undefined ? { servername } : isIP(address) ? {} : { servername: address }),
        });
      } else {
        socket = netConnect({ host: address, port });
      }
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError(`connect to ${address}:${port} timed out`, 'timeout'));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new TransportError(`connect to ${address}:${port} failed: ${err.message}`, 'connect-failed', {
            cause: err,
          }),
        );
      });
      socket.once(readyEvent, () => {
        clearTimeout(timer);
        resolve(this.adopt(socket, transport, 'outbound'));
      });
    });
  }

  private adopt(
    socket: Socket,
    transport: 'tcp' | 'tls',
    direction: 'inbound' | 'outbound',
  ): StreamConnection {
    const framerOptions = {
      ...(this.options.maxHeaderBytes !== undefined ? { maxHeaderBytes: this.options.maxHeaderBytes } : {}),
      ...(this.options.maxBodyBytes !== undefined ? { maxBodyBytes: this.options.maxBodyBytes } : {}),
    };
    const conn = new StreamConnection(socket, randomUUID(), transport, direction, framerOptions, this.now);
    this.connections.add(conn);
    const source = (): MessageSource => ({
      transport,
      address: conn.info.remoteAddress,
      port: conn.info.remotePort,
      localAddress: conn.info.localAddress,
      localPort: conn.info.localPort,
      connectionId: conn.info.id,
    });
    conn.on('frame', (data) => this.onFrame(data, source(), true));
    conn.on('framingError', (err, head) => this.emit('parseError', err, head, source()));
    conn.once('close', () => {
      this.connections.delete(conn);
      this.emit('connectionClosed', conn.info);
    });
    this.emit('connectionOpened', conn.info);
    return conn;
  }

  private onDatagram(data: Buffer, rinfo: RemoteInfo, listener: UdpListener): void {
    // A keep-alive CRLF (RFC 5626 4.4.2 uses STUN, but bare CRLFs are common too) is not a message.
    if (data.every((b) => b === 0x0d || b === 0x0a || b === 0x00)) return;
    const source: MessageSource = {
      transport: 'udp',
      address: normalizeAddress(rinfo.address),
      port: rinfo.port,
      localAddress: listener.host,
      localPort: listener.port,
    };
    this.onFrame(data, source, false);
  }

  private onFrame(data: Buffer, source: MessageSource, stream: boolean): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(data, { ...this.parseOptions, requireContentLength: stream });
    } catch (err) {
      const error = err instanceof SipParseError ? err : new SipParseError('unparseable message');
      this.emit('parseError', error, data, source);
      return;
    }
    if (msg.kind === 'request') stampReceived(msg, source.address, source.port);
    this.emit('message', msg, source);
  }

  private startSweep(): void {
    if (this.sweepTimer || this.closed) return;
    const every = this.options.idleSweepMs ?? Math.max(1000, Math.floor(this.idleMs / 4));
    this.sweepTimer = setInterval(() => this.connections.closeIdle(this.now(), this.idleMs), every);
    this.sweepTimer.unref();
  }
}
