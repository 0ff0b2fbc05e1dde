import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AudioPrompts } from '../../../src/calls/flow/audio/audioPrompts.js';
import { FlowPlayer } from '../../../src/calls/flow/flowPlayer.js';
import { type CallLeg, FlowRunner } from '../../../src/calls/flow/flowRunner.js';
import type { FlowContext, FlowVerb } from '../../../src/calls/flow/flowTypes.js';
import { GatherVerb } from '../../../src/calls/flow/verbs/gatherVerb.js';
import { callUpdateSchema } from '../../../src/control/schemas/callActionSchemas.js';
import { fieldProblems } from '../../../src/control/validation.js';
import type { MediaSession } from '../../../src/media/workers/MediaSession.js';
import type { PlayParams } from '../../../src/media/workers/mediaChannelTypes.js';

const logger = pino({ level: 'silent' });

/** A media session as far as flows use it: plays are recorded; the test ends them. */
class FakeSession extends EventEmitter {
  readonly plays: Omit<PlayParams, 'sessionId'>[] = [];
  closed = false;
  private next = 0;

  async play(params: Omit<PlayParams, 'sessionId'>): Promise<{ playbackId: string }> {
    this.plays.push(params);
    return { playbackId: `pb${++this.next}` };
  }

  end(playbackId: string, reason: 'finished' | 'stopped' = 'finished'): void {
    this.emit('playbackEnded', { sessionId: 's', playbackId, reason });
  }

  digit(digit: string): void {
    this.emit('dtmf', { sessionId: 's', digit, durationMs: 100, source: 'rfc4733' });
  }
}

function leg(
  session: FakeSession,
  events: { event: string; fields: Record<string, unknown> }[] = [],
): CallLeg {
  return {
    answered: async () => session as unknown as MediaSession,
    ring: () => true,
    hangup: () => undefined,
    bridge: async () => undefined,
    transfer: async () => undefined,
    emit: (_callId, event, fields) => events.push({ event, fields }),
  };
}

const audio = {
  forLocation: async (url: string) => `/cache/${url}`,
  forSpeech: async () => '/cache/speech',
} as unknown as AudioPrompts;

function verb(command: string, run: (context: FlowContext) => Promise<void>): FlowVerb {
  return { command, run };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('FlowRunner', () => {
  it('runs verbs in order, skips one that fails and goes on', async () => {
    const ran: string[] = [];
    const runner = new FlowRunner(
      'call_x',
      [
        verb('a', async () => void ran.push('a')),
        verb('b', async () => {
          throw new Error('bad audio');
        }),
        verb('c', async () => void ran.push('c')),
      ],
      { leg: leg(new FakeSession()), audio, logger },
    );
    await runner.run();
    expect(ran).toEqual(['a', 'c']);
  });

  it('stop aborts the verb in progress, stops its playback, and runs nothing after it', async () => {
    const session = new FakeSession();
    const ran: string[] = [];
    const runner = new FlowRunner(
      'call_x',
      [
        verb('play', async (context) => {
          await context.play(await context.answered(), '/cache/a.pcm', { target: 'sip', loop: true });
          ran.push('after play');
        }),
        verb('next', async () => void ran.push('next')),
      ],
      { leg: leg(session), audio, logger },
    );
    const done = runner.run();
    await tick();
    expect(session.plays).toHaveLength(1);
    runner.stop('replaced');
    await done;
    expect(ran).toEqual([]);
    // The stop is a 20 ms silence, which replaces the looping playback in the worker.
    expect(session.plays[1]).toMatchObject({ source: { kind: 'silence', durationMs: 20 } });
  });

  it('a pause is cut short by stop', async () => {
    const runner = new FlowRunner('call_x', [verb('pause', (context) => context.sleep(60_000))], {
      leg: leg(new FakeSession()),
      audio,
      logger,
    });
    const done = runner.run();
    runner.stop('call ended');
    await expect(done).resolves.toBeUndefined();
  });
});

describe('FlowPlayer', () => {
  it('resolves on the playback end, also one reported before play answered', async () => {
    const session = new FakeSession();
    const player = new FlowPlayer();
    const signal = new AbortController().signal;
    const first = player.play(
      session as unknown as MediaSession,
      '/a',
      { target: 'sip', loop: false },
      signal,
    );
    session.end('pb1');
    await expect(first).resolves.toBe('finished');
    // Nothing plays now: stop sends nothing.
    player.stop();
    expect(session.plays).toHaveLength(1);
  });

  it('stops a playback at its timeout', async () => {
    const session = new FakeSession();
    const player = new FlowPlayer();
    const outcome = await player.play(
      session as unknown as MediaSession,
      '/a',
      { target: 'both', loop: true, timeoutMs: 20 },
      new AbortController().signal,
    );
    expect(outcome).toBe('stopped');
    expect(session.plays.map((play) => play.source.kind)).toEqual(['file', 'silence']);
  });
});

describe('GatherVerb', () => {
  function gather(spec: Record<string, unknown>) {
    const parsed = callUpdateSchema.parse({ callFlow: [{ command: 'gather', ...spec }] });
    return new GatherVerb(parsed.callFlow?.[0] as never);
  }

  it('retries the prompt when nothing was entered, then reports the timeout once', async () => {
    const session = new FakeSession();
    const events: { event: string; fields: Record<string, unknown> }[] = [];
    const runner = new FlowRunner(
      'call_x',
      [gather({ maxNumKeys: 2, timeoutMs: 100, retries: 1, prompt: { command: 'say', text: 'hi' } })],
      { leg: leg(session, events), audio, logger },
    );
    const done = runner.run();
    await tick();
    session.end('pb1');
    await new Promise((resolve) => setTimeout(resolve, 150));
    session.end('pb2');
    await done;
    expect(session.plays.filter((play) => play.source.kind === 'file')).toHaveLength(2);
    expect(events).toEqual([{ event: 'calls.gather', fields: { digits: '', reason: 'timeout' } }]);
  });

  it('stops the prompt on the first digit, takes SIP INFO digits, leaves out the room ones', async () => {
    const session = new FakeSession();
    const events: { event: string; fields: Record<string, unknown> }[] = [];
    const runner = new FlowRunner(
      'call_x',
      [gather({ maxNumKeys: 2, endKey: '#', timeoutMs: 5000, prompt: { command: 'say', text: 'hi' } })],
      { leg: leg(session, events), audio, logger },
    );
    const done = runner.run();
    await tick();
    session.emit('dtmf', { sessionId: 's', digit: '9', durationMs: 100, source: 'room' });
    // A SIP INFO digit is the caller's as much as an RFC 4733 one.
    session.emit('dtmf', { sessionId: 's', digit: '4', durationMs: 100, source: 'sip_info' });
    expect(session.plays.at(-1)?.source).toEqual({ kind: 'silence', durationMs: 20 });
    session.digit('#');
    await done;
    expect(events).toEqual([{ event: 'calls.gather', fields: { digits: '4', reason: 'endKey' } }]);
  });
});

describe('call flow validation', () => {
  function problems(callFlow: unknown[]) {
    const result = callUpdateSchema.safeParse({ callFlow });
    return result.success ? [] : fieldProblems(result.error, 'body');
  }

  it('names the field at fault as the client wrote it', () => {
    expect(
      problems([
        { command: 'answer' },
        { command: 'pause', durationMs: 5 },
        { command: 'gather', maxNumKeys: 1 },
      ]),
    ).toEqual([{ field: 'callFlow[2].timeoutMs', message: expect.any(String) }]);
    expect(problems([{ command: 'jump' }])[0]?.field).toBe('callFlow[0].command');
    expect(problems([{ command: 'playback', url: 'ftp://x/a.wav' }])[0]?.field).toBe('callFlow[0].url');
    expect(problems([{ command: 'say', text: 'x', volume: 3 }])[0]?.field).toBe('callFlow[0].volume');
    expect(
      problems([
        { command: 'gather', maxNumKeys: 1, timeoutMs: 500, prompt: { command: 'say', text: '' } },
      ])[0]?.field,
    ).toBe('callFlow[0].prompt.text');
    expect(problems([])[0]?.field).toBe('callFlow');
  });

  it('fills in defaults', () => {
    const parsed = callUpdateSchema.parse({
      callFlow: [
        { command: 'playback', url: 'https://example.com/a.wav' },
        { command: 'gather', maxNumKeys: 4, timeoutMs: 3000 },
      ],
    });
    expect(parsed.callFlow).toEqual([
      { command: 'playback', url: 'https://example.com/a.wav', loop: false, target: 'sip' },
      { command: 'gather', maxNumKeys: 4, timeoutMs: 3000, retries: 0 },
    ]);
  });
});
