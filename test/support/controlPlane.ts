import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { FINAL_STATUSES, STATUS_EVENTS } from '../../src/calls/callTypes.js';

export const CONTROL_TOKEN = 'cp_token_for_tests_0000000000000000';
const FINAL_EVENTS: ReadonlySet<string> = new Set(FINAL_STATUSES.map((status) => STATUS_EVENTS[status]));

export interface ControlPlaneOptions {
  /** Bearer token a gateway must present; a handshake without it is refused with 401. */
  token?: string;
  /** Ack every event as it arrives (cumulatively, by its seq). */
  autoAck?: boolean;
  /** Listen on this port (to come back where a gateway keeps dialling); 0 picks a free one. */
  port?: number;
}

export interface Received {
  /** 1 for the first accepted connection, 2 for the next… */
  connection: number;
  message: any;
}

interface Waiter {
  check: () => boolean;
  resolve: () => void;
}

/**
 * A control plane for tests: a real WebSocket server the gateway dials. It records every message
 * with the connection it came on, can ack automatically or on demand, and lets tests wait on
 * what arrives (never on time).
 */
export class ControlPlane {
  readonly received: Received[] = [];
  autoAck: boolean;
  /** Answer the gateway's pings; false plays a control plane that vanished without closing. */
  answerPings = true;
  /** Pings received from the gateway (its heartbeat). */
  pings = 0;
  connections = 0;
  /** Close codes of ended connections, in order (1001: the gateway went away cleanly; 1006: cut). */
  readonly closeCodes: number[] = [];
  private readonly sockets = new Set<WebSocket>();
  private current: WebSocket | undefined;
  private readonly waiters: Waiter[] = [];

  /** Authorization headers of every handshake, accepted or refused. */
  readonly handshakes: (string | undefined)[] = [];
  private readonly server: WebSocketServer;

  private constructor(options: ControlPlaneOptions) {
    this.autoAck = options.autoAck ?? true;
    const token = options.token ?? CONTROL_TOKEN;
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: options.port ?? 0,
      autoPong: false,
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
        const authorization = info.req.headers.authorization;
        this.handshakes.push(authorization);
        done(authorization === `Bearer ${token}`, 401);
        this.settle();
      },
    });
    this.server.on('connection', (socket) => this.onConnection(socket));
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const plane = new ControlPlane(options);
    await new Promise<void>((resolve, reject) => {
      plane.server.once('listening', resolve);
      plane.server.once('error', reject);
    });
    plane.port = (plane.server.address() as AddressInfo).port;
    return plane;
  }

  /** The port bound at start (kept after stop, to come back on it). */
  port = 0;

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Every event message received, resends included, in arrival order. */
  get events(): any[] {
    return this.messagesOfType('event');
  }

  messagesOfType(type: string): any[] {
    return this.received.filter((r) => r.message?.type === type).map((r) => r.message);
  }

  /** Event messages of one connection, in arrival order. */
  eventsOn(connection: number): any[] {
    return this.received
      .filter((r) => r.connection === connection && r.message?.type === 'event')
      .map((r) => r.message);
  }

  /** Each seq once (its first arrival), in seq order: what the control plane has after deduplication. */
  distinctEvents(): any[] {
    const bySeq = new Map<number, any>();
    for (const event of this.events) if (!bySeq.has(event.seq)) bySeq.set(event.seq, event);
    return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Sends on the current connection: an object as JSON, a string or Buffer as is. */
  send(message: unknown): void {
    if (!this.current) throw new Error('no gateway connected');
    if (typeof message === 'string' || Buffer.isBuffer(message)) this.current.send(message);
    else this.current.send(JSON.stringify(message));
  }

  ack(seq: number): void {
    this.send({ type: 'ack', seq });
  }

  /** Resolves once `check` holds (checked now and on every message or connection); rejects at the deadline. */
  waitFor(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`control plane: timed out waiting for ${what} (${this.received.length} messages)`));
      }, timeoutMs);
      const waiter: Waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** One call's event names in seq order, once its final event (completed, failed…) is in. */
  async callEvents(callId: string, timeoutMs?: number): Promise<string[]> {
    const names = () =>
      this.distinctEvents()
        .filter((e) => e.data?.call?.id === callId)
        .map((e) => e.event as string);
    await this.waitFor(
      `the final event of ${callId}`,
      () => names().some((n) => FINAL_EVENTS.has(n)),
      timeoutMs,
    );
    return names();
  }

  waitForEvents(count: number, timeoutMs?: number): Promise<void> {
    return this.waitFor(`${count} distinct events`, () => this.distinctEvents().length >= count, timeoutMs);
  }

  waitForConnection(n: number, timeoutMs?: number): Promise<void> {
    return this.waitFor(`connection ${n}`, () => this.connections >= n, timeoutMs);
  }

  /** The next message of `type` after the `after`-th message received. */
  async nextMessage(type: string, after = this.received.length, timeoutMs?: number): Promise<any> {
    const find = () => this.received.slice(after).find((r) => r.message?.type === type);
    await this.waitFor(`a ${type} message`, () => find() !== undefined, timeoutMs);
    return find()?.message;
  }

  /** Cuts every connection at once, as a network failure or crash would (no close handshake). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: WebSocket): void {
    this.connections += 1;
    const connection = this.connections;
    this.sockets.add(socket);
    this.current = socket;
    socket.on('close', (code) => {
      this.sockets.delete(socket);
      if (this.current === socket) this.current = undefined;
      this.closeCodes.push(code);
      this.settle();
    });
    socket.on('ping', (data) => {
      this.pings += 1;
      if (this.answerPings) socket.pong(data);
      this.settle();
    });
    socket.on('message', (data) => {
      let message: any;
      try {
        message = JSON.parse(data.toString());
      } catch {
        message = { unparsable: data.toString() };
      }
      this.received.push({ connection, message });
      if (this.autoAck && message?.type === 'event' && socket === this.current) {
        socket.send(JSON.stringify({ type: 'ack', seq: message.seq }));
      }
      this.settle();
    });
    this.settle();
  }

  private settle(): void {
    for (const waiter of [...this.waiters]) {
      if (!waiter.check()) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}
