import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { SipParseError } from '../message/sipParseError.js';
import { StreamFramer, type StreamFramerOptions } from '../message/streamFramer.js';
import { normalizeAddress } from './addressUtils.js';
import { TransportError } from './transportError.js';
import type { ConnectionInfo } from './transportTypes.js';

export interface StreamConnectionEvents {
  /** A complete framed message, not yet parsed. */
  frame: [data: Buffer];
  /** `head`: the header section that failed to frame, when there was one (to answer it). */
  framingError: [error: SipParseError, head: Buffer | undefined];
  close: [];
}

/** How long a connection that failed framing stays open for the error response to be written. */
const FRAMING_ERROR_CLOSE_MS = 100;

/** One TCP or TLS connection: frames its byte stream and tracks activity for idle cleanup. */
export class StreamConnection extends EventEmitter<StreamConnectionEvents> {
  readonly info: ConnectionInfo;
  lastActivity: number;
  private readonly framer: StreamFramer;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    id: string,
    transport: 'tcp' | 'tls',
    direction: 'inbound' | 'outbound',
    framerOptions: StreamFramerOptions,
    private readonly now: () => number,
  ) {
    super();
    this.info = {
      id,
      transport,
      direction,
      remoteAddress: normalizeAddress(socket.remoteAddress ?? ''),
      remotePort: socket.remotePort ?? 0,
      localAddress: normalizeAddress(socket.localAddress ?? ''),
      localPort: socket.localPort ?? 0,
    };
    this.framer = new StreamFramer(framerOptions);
    this.lastActivity = now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Errors always precede 'close'; the close handler does the bookkeeping.
    socket.on('error', () => {});
    socket.on('close', () => this.markClosed());
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  write(data: Buffer): Promise<void> {
    if (!this.isOpen) return Promise.reject(new TransportError('connection closed', 'closed'));
    this.lastActivity = this.now();
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => {
        if (err) reject(new TransportError(`write failed: ${err.message}`, 'write-failed', { cause: err }));
        else resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
    this.markClosed();
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = this.now();
    for (const item of this.framer.push(chunk)) {
      if (item.type === 'message') this.emit('frame', item.data);
      else if (item.type === 'ping') this.socket.write('\r\n');
      else {
        this.emit('framingError', item.error, item.head);
        // The stream has no recoverable boundary after a framing error (RFC 3261 18.3). Close once
        // an error response to the failed request (sent within the next turns) had time to go out.
        const timer = setTimeout(() => this.close(), FRAMING_ERROR_CLOSE_MS);
        timer.unref();
        this.socket.once('close', () => clearTimeout(timer));
      }
    }
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}
