import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MainToWorkerMessage, RequestMessage } from '../../../src/media/workers/mediaChannelTypes.js';
import { MediaCommandError } from '../../../src/media/workers/mediaCommandError.js';
import { WorkerChannel } from '../../../src/media/workers/WorkerChannel.js';

describe('WorkerChannel', () => {
  let sent: MainToWorkerMessage[];
  let channel: WorkerChannel;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    channel = new WorkerChannel((message, callback) => {
      sent.push(message);
      callback(null);
    }, 1000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const lastId = (): number => (sent.at(-1) as RequestMessage).id;

  it('numbers requests and settles each by its own response', async () => {
    const a = channel.request('closeSession', { sessionId: 'a', reason: 'normal' });
    const b = channel.request('getWorkerStatus', {});
    const [first, second] = sent as RequestMessage[];
    expect(first).toMatchObject({ type: 'request', method: 'closeSession', params: { sessionId: 'a' } });
    expect(second?.id).not.toBe(first?.id);
    channel.handleResponse({
      type: 'response',
      id: second?.id ?? 0,
      ok: false,
      error: { code: 'internal', message: 'x' },
    });
    channel.handleResponse({
      type: 'response',
      id: first?.id ?? 0,
      ok: true,
      result: { closed: true, stats: null },
    });
    await expect(a).resolves.toEqual({ closed: true, stats: null });
    await expect(b).rejects.toMatchObject({ code: 'internal', method: 'getWorkerStatus' });
    expect(channel.pendingCount).toBe(0);
  });

  it('times out, then ignores the late answer', async () => {
    const pending = channel.request('hold', { sessionId: 's', hold: true }, 250);
    const id = lastId();
    vi.advanceTimersByTime(249);
    expect(channel.pendingCount).toBe(1);
    vi.advanceTimersByTime(1);
    await expect(pending).rejects.toMatchObject({ code: 'timeout', method: 'hold' });
    channel.handleResponse({ type: 'response', id, ok: true, result: { localSdp: '' } });
    expect(channel.pendingCount).toBe(0);
  });

  it('rejects everything outstanding and everything after failAll', async () => {
    const one = channel.request('getWorkerStatus', {});
    const two = channel.request('sendDtmf', { sessionId: 's', digits: '1', durationMs: null });
    channel.failAll('worker_died', 'gone');
    await expect(one).rejects.toMatchObject({ code: 'worker_died' });
    await expect(two).rejects.toBeInstanceOf(MediaCommandError);
    await expect(channel.request('getWorkerStatus', {})).rejects.toMatchObject({ code: 'worker_died' });
    expect(channel.pendingCount).toBe(0);
  });

  it('rejects a request that could not be sent', async () => {
    const broken = new WorkerChannel((_message, callback) => callback(new Error('EPIPE')), 1000);
    await expect(broken.request('getWorkerStatus', {})).rejects.toMatchObject({ code: 'worker_died' });
    expect(broken.pendingCount).toBe(0);
  });
});
