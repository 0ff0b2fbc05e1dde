import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { bearer, KEYS } from '../../test/support/testKeys.js';

export interface Accepted {
  callId: string;
  /** Wall-clock time the calls.ringing event arrived and the accept request went out. */
  acceptSentAt: number;
  /** When the accept request's HTTP response came back (the gateway answers it after the 200 OK). */
  acceptRespondedAt: number;
}

/**
 * The control plane's part in the benchmark: a WebSocket server the gateway dials (control.url),
 * which acks every event and accepts each call `ringMs` after its calls.ringing event arrived, by
 * POST /v1/calls/{id}/actions: a person picking up after a ring or two (ringMs 0 is a control
 * plane that answers at once). Calls are matched to the benchmark's callers by their From number.
 */
export class RingingAcceptor {
  readonly token = `cp_bench_${process.pid}_0000000000000000`;
  gatewayUrl = '';
  private readonly waiting = new Map<
    string,
    { resolve: (a: Accepted) => void; reject: (e: Error) => void }
  >();
  private readonly server: WebSocketServer;

  constructor(private readonly ringMs: number) {
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (info, done) => done(info.req.headers.authorization === `Bearer ${this.token}`, 401),
    });
    this.server.on('connection', (socket) => {
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as {
          type: string;
          seq?: number;
          event?: string;
          data?: { call?: { id: string; fromAddress: string } };
        };
        if (message.type !== 'event') return;
        socket.send(JSON.stringify({ type: 'ack', seq: message.seq }));
        const call = message.data?.call;
        if (message.event !== 'calls.ringing' || !call) return;
        const waiter = this.waiting.get(call.fromAddress);
        if (!waiter) return;
        this.waiting.delete(call.fromAddress);
        setTimeout(() => this.accept(call.id).then(waiter.resolve, waiter.reject), this.ringMs);
      });
    });
  }

  async listening(): Promise<string> {
    if (!this.server.address()) await new Promise((r) => this.server.once('listening', r));
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once the call from `from` rang and was accepted. */
  expect(from: string): Promise<Accepted> {
    return new Promise((resolve, reject) => this.waiting.set(from, { resolve, reject }));
  }

  close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async accept(callId: string): Promise<Accepted> {
    const acceptSentAt = performance.timeOrigin + performance.now();
    const response = await fetch(`${this.gatewayUrl}/v1/calls/${callId}/actions`, {
      method: 'POST',
      headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
      body: '{"action":"accept"}',
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`accept of ${callId} answered ${response.status}`);
    return {
      callId,
      acceptSentAt,
      acceptRespondedAt: performance.timeOrigin + performance.now(),
    };
  }
}
