import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import WebSocket, { type RawData } from 'ws';
import { ApiError } from '../apiError.js';
import { fieldProblems } from '../validation.js';
import type { CommandOutcome } from './commandHandler.js';
import type { EventChannelEvents, EventChannelOptions } from './eventChannelTypes.js';
import {
  type ChannelError,
  type CommandMessage,
  controlPlaneMessageSchema,
  type EventMessage,
  GATEWAY_ONLY_TYPES,
  type GatewayMessage,
} from './eventMessages.js';
import type { OutboxEvent } from './outboxTypes.js';
import { reconnectDelayMs } from './reconnectBackoff.js';

const DEFAULT_POLL_INTERVAL_MS = 1000;
/** A control plane has no reason to send anything large; a huge frame is refused by ws itself. */
const MAX_INBOUND_BYTES = 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long stop() waits for the close handshake before dropping the socket. */
const CLOSE_TIMEOUT_MS = 2000;
/**
 * Acks are written at most this often. An ack is one fsynced transaction; a control plane that
 * acks every event would otherwise double the disk's work per event. An ack lost to a crash in
 * this window only means those events are sent again, which at-least-once allows.
 */
const ACK_FLUSH_MS = 50;
/**
 * A control plane that vanished without closing (host down, half-open TCP) would otherwise look
 * connected forever, with events waiting on acks that never come. A ping every interval that
 * gets no pong (or any message) by the next one ends the connection, and reconnecting resends.
 */
const DEFAULT_HEARTBEAT_MS = 15_000;

function toEventMessage(event: OutboxEvent): EventMessage {
  return {
    type: 'event',
    event: event.event,
    eventId: event.eventId,
    seq: event.seq,
    timestamp: event.timestamp,
    data: event.data,
  };
}

function errorOf(thrown: unknown): ChannelError {
  if (thrown instanceof ApiError) return thrown.toBody().error;
  return { code: 'internal', message: 'internal error' };
}

/**
 * The gateway's one connection to the control plane: it dials `url`, says hello, streams the
 * outbox's unacked events in seq order within a bounded window, records cumulative acks, and
 * answers commands. On any loss it reconnects with capped, jittered exponential backoff and
 * starts again from the last acked seq, so every unacked event is resent, in order, with its
 * original eventId: ordered at-least-once delivery; the control plane deduplicates by eventId
 * (or seq).
 *
 * Commands are not persisted: one whose result cannot be sent (the socket dropped) is not
 * answered, and the control plane retries it as it would a REST request that timed out.
 */
export class EventChannel extends EventEmitter<EventChannelEvents> {
  private readonly logger: Logger;
  private ws: WebSocket | undefined;
  private connected = false;
  private stopped = false;
  private started = false;
  private attempt = 0;
  private connections = 0;
  private openedAt = 0;
  /** Whether the current run of failed dials was logged: the first at warn, the rest at debug. */
  private failureLogged = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** A ping is out and nothing has come back from the control plane since. */
  private awaitingPong = false;
  /** The highest seq acked by the control plane and not yet written to the outbox; 0 when none. */
  private pendingAck = 0;
  private unsubscribe: (() => void) | undefined;
  /** Highest seq sent on the current connection (starts at the last acked seq on each). */
  private lastSentSeq = 0;
  /** Seqs sent on this connection and not yet acked, ascending: the window in use. */
  private inFlight: number[] = [];
  /** Highest seq sent by this process on any connection: a seq at or below it is a resend. */
  private highestEverSent = 0;
  /** A read of the outbox is under way (pump), and whether another was asked for meanwhile. */
  private pumping = false;
  private pumpAgain = false;
  /** The ack being written to the outbox, if any. */
  private ackWrite: Promise<void> = Promise.resolve();

  constructor(private readonly options: EventChannelOptions) {
    super();
    this.logger = options.logger;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe = this.options.outbox.onAppend(() => this.pump());
    this.pollTimer = setInterval(() => this.pump(), this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.pollTimer.unref();
    this.connect();
  }

  /** Closes the connection (1001, going away) and stops reconnecting. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    this.unsubscribe?.();
    await this.flushAck();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    const timer = setTimeout(() => ws.terminate(), CLOSE_TIMEOUT_MS);
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws.close(1001, 'gateway stopping');
    await closed;
    clearTimeout(timer);
  }

  private connect(): void {
    if (this.stopped) return;
    const { url, token } = this.options;
    const ws = new WebSocket(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      maxPayload: MAX_INBOUND_BYTES,
    });
    this.ws = ws;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('close', (code, reason) => this.onClose(ws, `${code} ${reason.toString()}`.trim()));
    // Always followed by 'close', which reconnects; without a listener it would be thrown.
    ws.on('error', (error) => {
      const level = this.failureLogged ? 'debug' : 'warn';
      this.failureLogged = true;
      this.logger[level](
        { err: error.message, url },
        'control plane connection failed; retrying with backoff',
      );
    });
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.connected = true;
    this.failureLogged = false;
    this.openedAt = Date.now();
    this.connections += 1;
    if (this.connections > 1) this.options.metrics.reconnects.inc();
    void this.flushAck();
    const lastAckedSeq = this.options.outbox.lastAckedSeq();
    this.lastSentSeq = lastAckedSeq;
    this.inFlight = [];
    this.startHeartbeat(ws);
    this.send(ws, {
      type: 'hello',
      gatewayId: this.options.gatewayId,
      version: this.options.version,
      lastAckedSeq,
    });
    this.logger.info({ url: this.options.url, lastAckedSeq }, 'connected to the control plane');
    this.emit('connected');
    this.pump();
  }

  private onClose(ws: WebSocket, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    clearInterval(this.heartbeatTimer);
    const wasConnected = this.connected;
    this.connected = false;
    this.inFlight = [];
    if (wasConnected) {
      // A connection that held for a while was healthy: the next outage starts its backoff afresh.
      if (Date.now() - this.openedAt >= this.options.reconnect.maxMs) this.attempt = 0;
      if (!this.stopped) this.logger.warn({ reason }, 'lost the control plane connection; reconnecting');
      this.emit('disconnected', reason);
    }
    if (this.stopped) return;
    const delayMs = reconnectDelayMs(this.attempt, {
      ...this.options.reconnect,
      random: this.options.random,
    });
    this.attempt += 1;
    this.logger.debug({ delayMs, attempt: this.attempt }, 'control plane reconnect scheduled');
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  /** Sends unacked events after the last one sent, until the window is full or the outbox is drained. */
  private pump(): void {
    // One read at a time: a pump asked for while one runs runs again once it is done.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    const ws = this.ws;
    if (!ws || !this.connected || !this.options.outbox.readable) return;
    this.pumping = true;
    this.pumpAgain = false;
    this.fill(ws)
      .catch((error: unknown) => {
        // The store closing under a shutdown; the next connection starts again from the acks.
        if (this.options.outbox.readable)
          this.logger.error({ err: error }, 'could not read the event outbox');
      })
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) this.pump();
      });
  }

  private async fill(ws: WebSocket): Promise<void> {
    while (this.inFlight.length < this.options.sendWindow) {
      const batch = await this.options.outbox.unackedAfter(
        this.lastSentSeq,
        this.options.sendWindow - this.inFlight.length,
      );
      // The connection this read was for may have closed meanwhile: its successor starts over.
      if (ws !== this.ws || !this.connected || batch.length === 0) return;
      for (const event of batch) {
        if (event.seq <= this.lastSentSeq) continue;
        this.send(ws, toEventMessage(event));
        this.lastSentSeq = event.seq;
        this.inFlight.push(event.seq);
        this.options.metrics.sent.inc();
        if (event.seq <= this.highestEverSent) this.options.metrics.resent.inc();
        else this.highestEverSent = event.seq;
      }
    }
  }

  private startHeartbeat(ws: WebSocket): void {
    this.awaitingPong = false;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (this.awaitingPong) {
        this.logger.warn('the control plane stopped answering pings; reconnecting');
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
    }, this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (ws !== this.ws) return;
    this.awaitingPong = false;
    if (isBinary) {
      this.reject(ws, { code: 'invalid_message', message: 'messages are JSON text frames' });
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data.toString());
    } catch {
      this.reject(ws, { code: 'invalid_json', message: 'the message is not valid JSON' });
      return;
    }
    const type = (json as { type?: unknown } | null)?.type;
    const id = (json as { id?: unknown } | null)?.id;
    const replyId = typeof id === 'string' ? id : undefined;
    if (typeof type === 'string' && GATEWAY_ONLY_TYPES.includes(type)) {
      this.reject(
        ws,
        { code: 'forbidden', message: `the control plane may not send "${type}" messages` },
        replyId,
      );
      return;
    }
    const parsed = controlPlaneMessageSchema.safeParse(json);
    if (!parsed.success) {
      if (type !== 'ack' && type !== 'command') {
        this.reject(
          ws,
          { code: 'unknown_message', message: `unknown message type ${JSON.stringify(type ?? null)}` },
          replyId,
        );
        return;
      }
      const details = fieldProblems(parsed.error, 'message');
      const fields = [...new Set(details.map((d) => d.field))].join(', ');
      this.reject(ws, { code: 'invalid_message', message: `invalid value for ${fields}`, details }, replyId);
      return;
    }
    const message = parsed.data;
    if (message.type === 'ack') this.onAck(ws, message.seq);
    else void this.onCommand(ws, message);
  }

  private onAck(ws: WebSocket, seq: number): void {
    // An ack may cover events sent on an earlier connection that the resend has not reached yet,
    // but never an event this process has not sent: that would skip its delivery.
    const sentUpTo = Math.max(this.lastSentSeq, this.highestEverSent);
    if (seq > sentUpTo) {
      this.reject(ws, {
        code: 'invalid_ack',
        message: `ack for seq ${seq}, but events were sent only up to ${sentUpTo}`,
      });
      return;
    }
    if (seq > this.pendingAck) {
      this.pendingAck = seq;
      this.attempt = 0;
      this.ackTimer ??= setTimeout(() => void this.flushAck(), ACK_FLUSH_MS);
    }
    // The window frees at once: the ack is known, only its write is deferred.
    while (this.inFlight.length > 0 && (this.inFlight[0] as number) <= seq) this.inFlight.shift();
    this.pump();
  }

  /** Writes the pending ack to the outbox (cumulative, so one write covers every ack since the last). */
  private flushAck(): Promise<void> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const seq = this.pendingAck;
    if (seq === 0) return this.ackWrite;
    this.pendingAck = 0;
    const outbox = this.options.outbox;
    this.ackWrite = this.ackWrite.then(async () => {
      try {
        if (seq > outbox.lastAckedSeq()) this.options.metrics.acked.inc(await outbox.ack(seq));
      } catch (error) {
        this.logger.error({ err: error, seq }, 'could not record an ack');
        return;
      }
      this.emit('acked', seq);
    });
    return this.ackWrite;
  }

  private async onCommand(ws: WebSocket, message: CommandMessage): Promise<void> {
    const { type: _type, id, callId, action, ...params } = message;
    let outcome: CommandOutcome;
    try {
      outcome = await this.options.commands.handle({ id, callId, action, params });
    } catch (error) {
      if (!(error instanceof ApiError)) this.logger.error({ err: error, id, action }, 'command failed');
      outcome = { ok: false, error: errorOf(error) };
    }
    this.options.metrics.commands.inc({ action, outcome: outcome.ok ? 'ok' : outcome.error.code });
    this.logger.info({ id, callId, action, ok: outcome.ok }, 'control plane command');
    if (ws !== this.ws || !this.connected) {
      this.logger.warn({ id, action }, 'command result not sent: the connection it came on is gone');
      return;
    }
    this.send(
      ws,
      outcome.ok
        ? {
            type: 'result',
            id,
            ok: true,
            ...(outcome.result === undefined ? {} : { result: outcome.result }),
          }
        : { type: 'result', id, ok: false, error: outcome.error },
    );
  }

  /** Answers a message the gateway will not act on; nothing else changes. */
  private reject(ws: WebSocket, error: ChannelError, id?: string): void {
    this.options.metrics.rejectedMessages.inc({ code: error.code });
    this.logger.warn({ code: error.code, message: error.message }, 'refused a control plane message');
    this.send(ws, { type: 'error', ...(id === undefined ? {} : { id }), error });
  }

  private send(ws: WebSocket, message: GatewayMessage): void {
    ws.send(JSON.stringify(message));
  }
}
