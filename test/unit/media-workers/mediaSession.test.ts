import { describe, expect, it } from 'vitest';
import { MediaSession } from '../../../src/media/workers/MediaSession.js';
import type { CommandParams, SessionCommandName } from '../../../src/media/workers/mediaChannelTypes.js';
import { MediaCommandError } from '../../../src/media/workers/mediaCommandError.js';
import type { SessionClosedInfo, SessionTransport } from '../../../src/media/workers/mediaSessionTypes.js';

function transport(answer: (method: SessionCommandName) => Promise<unknown>): {
  transport: SessionTransport;
  sent: { method: SessionCommandName; params: CommandParams<SessionCommandName> }[];
} {
  const sent: { method: SessionCommandName; params: CommandParams<SessionCommandName> }[] = [];
  return {
    sent,
    transport: {
      request: ((method: SessionCommandName, params: CommandParams<SessionCommandName>) => {
        sent.push({ method, params });
        return answer(method);
      }) as SessionTransport['request'],
    },
  };
}

function closes(session: MediaSession): SessionClosedInfo[] {
  const seen: SessionClosedInfo[] = [];
  session.on('closed', (info) => seen.push(info));
  return seen;
}

describe('MediaSession', () => {
  it('addresses commands to its own session id', async () => {
    const { transport: t, sent } = transport(async () => ({ localSdp: 'v=0' }));
    const session = new MediaSession('ms_1', 0, t);
    await session.hold(true);
    await session.sendDtmf('12#', 120);
    await session.play({ source: { kind: 'silence', durationMs: 10 }, target: 'both', loop: false });
    expect(sent.map((s) => [s.method, s.params.sessionId])).toEqual([
      ['hold', 'ms_1'],
      ['sendDtmf', 'ms_1'],
      ['play', 'ms_1'],
    ]);
    expect(sent[1]?.params).toEqual({ sessionId: 'ms_1', digits: '12#', durationMs: 120 });
  });

  it('routes worker events to listeners and turns sessionClosed into one closed', async () => {
    const { transport: t, sent } = transport(async () => ({ closed: true, stats: null }));
    const session = new MediaSession('ms_2', 1, t);
    const seen = closes(session);
    const digits: string[] = [];
    session.on('dtmf', (event) => digits.push(event.digit));
    session.handleEvent({
      type: 'event',
      event: 'dtmf',
      data: { sessionId: 'ms_2', digit: '5', durationMs: 80, source: 'rfc4733' },
    });
    session.handleEvent({
      type: 'event',
      event: 'sessionClosed',
      data: { sessionId: 'ms_2', reason: 'media_timeout', message: 'no RTP for 15 s' },
    });
    session.handleEvent({
      type: 'event',
      event: 'dtmf',
      data: { sessionId: 'ms_2', digit: '6', durationMs: 80, source: 'rfc4733' },
    });
    session.handleEvent({
      type: 'event',
      event: 'sessionClosed',
      data: { sessionId: 'ms_2', reason: 'normal', message: null },
    });
    expect(digits).toEqual(['5']);
    expect(seen).toEqual([{ reason: 'media_timeout', message: 'no RTP for 15 s' }]);
    await expect(session.close()).resolves.toBeNull();
    expect(sent).toEqual([]);
    await expect(session.hold(false)).rejects.toMatchObject({ code: 'session_not_found' });
  });

  it('close is idempotent, never rejects, and closes even when the worker cannot answer', async () => {
    const { transport: t, sent } = transport(async () => {
      throw new MediaCommandError('worker_died', 'gone');
    });
    const session = new MediaSession('ms_3', 0, t);
    const seen = closes(session);
    const first = session.close('normal');
    const second = session.close('media_error');
    expect(second).toBe(first);
    await expect(first).resolves.toBeNull();
    expect(sent).toHaveLength(1);
    expect(seen).toEqual([{ reason: 'normal', message: null }]);
    expect(session.closed).toBe(true);
  });

  it("emits the worker's final stats as a last 'stats', just before 'closed'", async () => {
    const final = {
      packetsReceived: 90,
      packetsSent: 100,
      bytesReceived: 9000,
      bytesSent: 10000,
      packetsExpected: 100,
      packetsLost: 10,
      jitterMs: 1.5,
      roundTripMs: null,
      mos: 3.4,
    };
    const { transport: t } = transport(async () => ({ closed: true, stats: final }));
    const session = new MediaSession('ms_5', 0, t);
    const order: string[] = [];
    session.on('stats', (event) => order.push(`stats ${event.sessionId} ${event.stats.packetsLost}`));
    session.on('closed', () => order.push('closed'));
    expect((await session.close())?.stats).toEqual(final);
    await session.close();
    expect(order).toEqual(['stats ms_5 10', 'closed']);
  });
});
