import { describe, expect, it } from 'vitest';
import { SdpNotAcceptableError } from '../../../src/media/sdp/sdpErrors.js';
import {
  isMainToWorkerMessage,
  isWorkerToMainMessage,
  toChannelError,
} from '../../../src/media/workers/channelMessages.js';
import type { WorkerInit, WorkerToMainMessage } from '../../../src/media/workers/mediaChannelTypes.js';
import { MediaCommandError } from '../../../src/media/workers/mediaCommandError.js';
import type { SessionHandler, WorkerContext } from '../../../src/media/workers/sessionHandlerTypes.js';
import { WorkerRuntime } from '../../../src/media/workers/WorkerRuntime.js';
import type { ParentPort } from '../../../src/media/workers/workerRuntimeTypes.js';

const INIT: WorkerInit = {
  workerIndex: 3,
  portRange: { min: 20000, max: 20099 },
  bindAddress: '127.0.0.1',
  advertisedAddress: '127.0.0.1',
  codecs: ['PCMU'],
  timeoutInitialSeconds: 30,
  timeoutSeconds: 15,
};

class FakePort implements ParentPort {
  readonly sent: WorkerToMainMessage[] = [];
  exits = 0;
  private onMessage: (message: unknown) => void = () => {};
  private onDisconnect: () => void = () => {};
  private waiters: { count: number; resolve: () => void }[] = [];

  send(message: WorkerToMainMessage): void {
    this.sent.push(message);
    for (const waiter of this.waiters.filter((w) => this.sent.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
  on(event: 'message' | 'disconnect', listener: (message: unknown) => void): void {
    if (event === 'message') this.onMessage = listener;
    else this.onDisconnect = listener as () => void;
  }
  exit(): void {
    this.exits += 1;
  }
  deliver(message: unknown): void {
    this.onMessage(message);
  }
  disconnect(): void {
    this.onDisconnect();
  }
  /** Resolves once `count` messages have been sent in all. */
  sentCount(count: number): Promise<void> {
    if (this.sent.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

function fakeHandler(context: WorkerContext, calls: string[]): SessionHandler {
  const unused = async (): Promise<never> => {
    throw new Error('not used');
  };
  return {
    createSession: async (params) => {
      calls.push(`create:${params.sessionId}`);
      if (params.remoteOffer === 'bad') throw new SdpNotAcceptableError('no codec');
      context.events.emit('firstPacket', {
        sessionId: params.sessionId,
        from: { address: '::1', port: 9 },
        at: 1,
      });
      return { localSdp: 'v=0', type: 'answer', rtpPort: 20000, media: null };
    },
    answerOffer: unused,
    applyRemoteAnswer: unused,
    connectRoom: unused,
    play: unused,
    startMedia: unused,
    startRecording: unused,
    stopRecording: unused,
    sendDtmf: async () => {
      throw new MediaCommandError('session_not_found', 'nope');
    },
    injectDtmf: unused,
    hold: async () => {
      throw new TypeError('boom');
    },
    closeSession: async () => ({ closed: true, stats: null }),
    status: () => ({ sessions: 1, portsInUse: 1 }),
    shutdown: async () => {
      calls.push('shutdown');
      return 1;
    },
  };
}

function started(): { port: FakePort; calls: string[] } {
  const port = new FakePort();
  const calls: string[] = [];
  new WorkerRuntime(port, (context) => fakeHandler(context, calls)).start();
  return { port, calls };
}

describe('WorkerRuntime', () => {
  it('refuses requests before init, then says ready once', async () => {
    const { port } = started();
    port.deliver({ type: 'request', id: 1, method: 'getWorkerStatus', params: {} });
    await port.sentCount(1);
    expect(port.sent[0]).toMatchObject({
      type: 'response',
      id: 1,
      ok: false,
      error: { code: 'bad_request' },
    });
    port.deliver({ type: 'init', init: INIT });
    port.deliver({ type: 'init', init: INIT });
    expect(port.sent.filter((m) => m.type === 'ready')).toHaveLength(1);
  });

  it('dispatches session commands, forwards events, and maps errors to codes', async () => {
    const { port, calls } = started();
    port.deliver({ type: 'init', init: INIT });
    port.deliver({
      type: 'request',
      id: 7,
      method: 'createSession',
      params: { sessionId: 's1', remoteOffer: 'o', callId: null },
    });
    port.deliver({
      type: 'request',
      id: 8,
      method: 'createSession',
      params: { sessionId: 's2', remoteOffer: 'bad', callId: null },
    });
    port.deliver({
      type: 'request',
      id: 9,
      method: 'sendDtmf',
      params: { sessionId: 's1', digits: '1', durationMs: null },
    });
    port.deliver({ type: 'request', id: 10, method: 'hold', params: { sessionId: 's1', hold: true } });
    port.deliver({ type: 'request', id: 11, method: 'getWorkerStatus', params: {} });
    port.deliver({ type: 'request', id: 12, method: 'notACommand', params: {} });
    port.deliver('garbage');
    await port.sentCount(7);
    expect(calls).toEqual(['create:s1', 'create:s2']);
    const byId = (id: number) => port.sent.find((m) => m.type === 'response' && m.id === id);
    expect(port.sent).toContainEqual({
      type: 'event',
      event: 'firstPacket',
      data: { sessionId: 's1', from: { address: '::1', port: 9 }, at: 1 },
    });
    expect(byId(7)).toMatchObject({ ok: true, result: { rtpPort: 20000 } });
    expect(byId(8)).toMatchObject({ ok: false, error: { code: 'sdp_not_acceptable', message: 'no codec' } });
    expect(byId(9)).toMatchObject({ ok: false, error: { code: 'session_not_found' } });
    expect(byId(10)).toMatchObject({ ok: false, error: { code: 'internal', message: 'boom' } });
    expect(byId(11)).toMatchObject({
      ok: true,
      result: { workerIndex: 3, sessions: 1, portsInUse: 1, pid: process.pid },
    });
    expect(byId(12)).toBeUndefined();
  });

  it('shuts down on command: closes sessions, answers, exits; later commands are refused', async () => {
    const { port, calls } = started();
    port.deliver({ type: 'init', init: INIT });
    port.deliver({ type: 'request', id: 1, method: 'shutdown', params: { reason: 'shutdown' } });
    await port.sentCount(2);
    expect(port.sent[1]).toMatchObject({ id: 1, ok: true, result: { closedSessions: 1 } });
    expect(port.exits).toBe(1);
    port.deliver({ type: 'request', id: 2, method: 'hold', params: { sessionId: 's', hold: true } });
    await port.sentCount(3);
    expect(port.sent[2]).toMatchObject({ id: 2, ok: false, error: { code: 'worker_closed' } });
    expect(calls).toEqual(['shutdown']);
  });

  it('closes everything and exits when the parent goes away', async () => {
    const { port, calls } = started();
    port.deliver({ type: 'init', init: INIT });
    port.disconnect();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual(['shutdown']);
    expect(port.exits).toBe(1);
  });
});

describe('channel message guards', () => {
  it('accepts well-formed messages and rejects the rest', () => {
    expect(isWorkerToMainMessage({ type: 'ready', pid: 1 })).toBe(true);
    expect(isWorkerToMainMessage({ type: 'response', id: 1, ok: true, result: {} })).toBe(true);
    expect(isWorkerToMainMessage({ type: 'response', id: 1, ok: false, error: { code: 'nope' } })).toBe(
      false,
    );
    expect(isWorkerToMainMessage({ type: 'event', event: 'dtmf', data: { sessionId: 's' } })).toBe(true);
    expect(isWorkerToMainMessage({ type: 'event', event: 'other', data: { sessionId: 's' } })).toBe(false);
    expect(isWorkerToMainMessage(null)).toBe(false);
    expect(isMainToWorkerMessage({ type: 'request', id: 1.5, method: 'hold', params: {} })).toBe(false);
    expect(isMainToWorkerMessage({ type: 'init', init: INIT })).toBe(true);
  });

  it('keeps an error code only when it is one of ours', () => {
    expect(toChannelError(new SdpNotAcceptableError('x'))).toEqual({
      code: 'sdp_not_acceptable',
      message: 'x',
    });
    expect(toChannelError(Object.assign(new Error('y'), { code: 'ENOENT' }))).toEqual({
      code: 'internal',
      message: 'y',
    });
    expect(toChannelError('z')).toEqual({ code: 'internal', message: 'z' });
  });
});
