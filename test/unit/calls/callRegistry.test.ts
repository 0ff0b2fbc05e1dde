import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { FlowStopped } from '../../../src/calls/callErrors.js';
import type { AwaitingDecision, PhaseControl } from '../../../src/calls/callPhases.js';
import { CallRegistry } from '../../../src/calls/callRegistry.js';
import { CallService } from '../../../src/calls/callService.js';
import { CallStore } from '../../../src/calls/callStore.js';
import type { Call } from '../../../src/calls/callTypes.js';
import type { FlowRunner } from '../../../src/calls/flow/flowRunner.js';
import { MediaSession } from '../../../src/media/workers/MediaSession.js';
import { Database } from '../../../src/store/database.js';
import { storeOnlyEvents } from '../../support/storeOnlyEvents.js';

/**
 * One live object per call: what it holds is released once on every way a call ends, the
 * registry forgets it, and commands and flows get answers from its phase.
 */
const logger = pino({ level: 'silent' });
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';

let calls: CallService;
let registry: CallRegistry;

beforeEach(() => {
  const db = new Database({ path: ':memory:', synchronous: 'full', logger });
  calls = new CallService({
    store: new CallStore(db),
    events: storeOnlyEvents(db),
    logger,
    now: () => new Date(),
  });
  registry = new CallRegistry(calls, logger);
});

function newCall(): Call {
  return calls.create({
    appId: APP,
    direction: 'inbound',
    fromAddress: '+15550100',
    toAddress: '+15550199',
    fromChannel: 'pstn',
    toChannel: 'webrtc',
  });
}

function control(): PhaseControl & { hangups: number; shutdowns: number } {
  return {
    hangups: 0,
    shutdowns: 0,
    hangup() {
      this.hangups++;
    },
    shutdown() {
      this.shutdowns++;
      return Promise.resolve();
    },
  };
}

function flow(): FlowRunner & { stoppedWith: string[] } {
  const stoppedWith: string[] = [];
  return { stoppedWith, stop: (why: string) => void stoppedWith.push(why) } as unknown as FlowRunner & {
    stoppedWith: string[];
  };
}

const session = () => new MediaSession('ms_1', 0, { request: async () => ({}) as never });

describe('CallRegistry and LiveCall', () => {
  it('releases what a call owns once when its end is recorded, and forgets the call', async () => {
    const call = newCall();
    const live = registry.open(call);
    const released: string[] = [];
    live.own(() => released.push('timer'));
    live.own(() => released.push('media'));
    const runner = flow();
    live.runFlow(runner);
    expect(registry.get(call.id)).toBe(live);

    const result = live.end({ to: 'canceled', endReason: 'canceled' });
    live.end({ to: 'failed', endReason: 'api_hangup' });
    expect(result.ok).toBe(true);
    expect((await calls.find(call.id))?.status).toBe('canceled');
    expect(released).toEqual(['timer', 'media']);
    expect(runner.stoppedWith).toEqual(['call ended (canceled)']);
    expect(registry.size).toBe(0);
    expect(live.phase).toBe('ending');
  });

  it('closes the call on a final status recorded by anyone, not only by the call itself', () => {
    const call = newCall();
    const live = registry.open(call);
    let released = 0;
    live.own(() => released++);
    calls.transition(call.id, { to: 'failed', endReason: 'gateway_restart' });
    expect(released).toBe(1);
    expect(registry.get(call.id)).toBeUndefined();
  });

  it('releases at once what is handed to a call that already ended (a late media session)', () => {
    const live = registry.open(newCall());
    live.end({ to: 'canceled', endReason: 'canceled' });
    let released = 0;
    live.own(() => released++);
    expect(released).toBe(1);
  });

  it('a new flow stops the one it replaces; a flow that finished leaves a newer one running', () => {
    const live = registry.open(newCall());
    const first = flow();
    const second = flow();
    live.runFlow(first);
    live.runFlow(second);
    live.flowDone(first);
    expect(first.stoppedWith).toEqual(['replaced by a new flow']);
    expect(live.flow).toBe(second);
    live.flowDone(second);
    expect(live.flow).toBeUndefined();
  });

  it('hangs up by phase: ringing and answered calls can be hung up, one being answered cannot', () => {
    const live = registry.open(newCall());
    const ringing = control();
    live.ringing(ringing);
    expect(live.hangup()).toBe(true);
    expect(ringing.hangups).toBe(1);
    live.answering();
    expect(live.hangup()).toBe(false);
    const answered = control();
    live.answered(answered, session());
    expect(live.hangup()).toBe(true);
    expect(answered.hangups).toBe(1);
  });

  it('a hangup with a SIP code rejects a call waiting for a decision with that code', () => {
    const live = registry.open(newCall());
    const rejected: number[] = [];
    const decision = {
      ...control(),
      reject: (code: number) => void rejected.push(code),
    } as unknown as AwaitingDecision;
    live.ringing(decision, decision);
    expect(live.decision).toBe(decision);
    expect(live.hangup(603)).toBe(true);
    expect(rejected).toEqual([603]);
  });

  it('whenAnswered accepts a waiting call and resolves with the media of its answer', async () => {
    const live = registry.open(newCall());
    let accepts = 0;
    const decision = {
      ...control(),
      accept: async () => {
        accepts++;
        live.answering();
      },
    } as unknown as AwaitingDecision;
    live.ringing(decision, decision);
    const answered = live.whenAnswered();
    expect(accepts).toBe(1);
    const media = session();
    live.answered(control(), media);
    await expect(answered).resolves.toBe(media);
    await expect(live.whenAnswered()).resolves.toBe(media);
  });

  it('whenAnswered rejects with FlowStopped when the call ends first, or is answered with no SIP leg', async () => {
    const first = registry.open(newCall());
    first.ringing(control());
    const waiting = first.whenAnswered();
    first.end({ to: 'no_answer', endReason: 'ring_timeout' });
    await expect(waiting).rejects.toBeInstanceOf(FlowStopped);

    const browser = registry.open(newCall());
    browser.ringing(control());
    const pending = browser.whenAnswered();
    browser.answered(control());
    await expect(pending).rejects.toBeInstanceOf(FlowStopped);
  });

  it('shutdown ends every live call, and a far end that never answers does not hold it past the grace', async () => {
    const polite = control();
    registry.open(newCall()).ringing(polite);
    registry
      .open(newCall())
      .answered({ hangup: () => undefined, shutdown: () => new Promise(() => undefined) });
    const started = Date.now();
    await registry.shutdown(200);
    expect(polite.shutdowns).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(registry.countByPhase()).toEqual({ ringing: 1, answering: 0, answered: 1, ending: 0 });
  });
});
