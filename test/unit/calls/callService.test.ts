import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CallService } from '../../../src/calls/callService.js';
import type { CallEventSink, NewCall } from '../../../src/calls/callServiceTypes.js';
import { CallStore } from '../../../src/calls/callStore.js';
import { EventOutbox } from '../../../src/control/events/eventOutbox.js';
import type { AppendInput } from '../../../src/control/events/outboxTypes.js';
import type { SqlStatement, SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines } from '../../support/storeEngines.js';

/** The real outbox, with a record of what the call layer handed it (and a way to make it refuse). */
class RecordingEventSink implements CallEventSink {
  readonly events: { event: string; callId: string; data: Record<string, unknown> }[] = [];
  failNext = false;
  constructor(private readonly outbox: EventOutbox) {}
  append(event: { event: string; callId: string; data: Record<string, unknown> }): SqlStatement {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('outbox refused the event');
    }
    const row = this.outbox.append(event as AppendInput);
    this.events.push(event);
    return row;
  }
  commit(statements: readonly SqlStatement[]): void {
    this.outbox.commit(statements);
  }
}

const logger = pino({ level: 'silent' });
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const inbound: NewCall = {
  appId: APP,
  direction: 'inbound',
  fromAddress: '+15550100',
  toAddress: '+15550199',
  fromChannel: 'pstn',
  toChannel: 'webrtc',
};

describe.each(storeEngines())('CallService on $name', (engine: StoreEngine) => {
  let db: SqlStore;
  let sink: RecordingEventSink;
  let clock: Date;
  let calls: CallService;

  function advance(ms: number): void {
    clock = new Date(clock.getTime() + ms);
  }

  beforeEach(async () => {
    await db?.close();
    db = await engine.open();
    sink = new RecordingEventSink(
      await new EventOutbox({ database: db, logger, maxDepth: 1e6, enforceMaxDepth: false }).open(),
    );
    clock = new Date('2026-11-22T10:00:00.000Z');
    calls = new CallService({ store: new CallStore(db), events: sink, logger, now: () => clock });
  }, 30_000);
  afterAll(async () => {
    await db?.close();
    await engine.dispose();
  });

  describe('CallService', async () => {
    it('creates a call as initiated and writes calls.initiated', async () => {
      const call = calls.create({ ...inbound, metadata: { crm: 42 } });
      expect(call.id).toMatch(/^call_[0-9A-Za-z]{27}$/);
      expect(call).toMatchObject({
        status: 'initiated',
        duration: 0,
        endReason: null,
        metadata: { crm: 42 },
      });
      expect(call.startedAt).toBe('2026-11-22T10:00:00.000Z');
      expect(sink.events).toEqual([{ event: 'calls.initiated', callId: call.id, data: { call } }]);
      expect(calls.get(call.id)).toEqual(call);
    });

    it('gives calls of test apps a call_test_ id', async () => {
      expect(calls.create({ ...inbound, appId: 'app_test_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X' }).id).toMatch(
        /^call_test_[0-9A-Za-z]{27}$/,
      );
    });

    it('walks initiated → ringing → in_progress → completed with consistent timestamps', async () => {
      const { id } = calls.create(inbound);
      advance(2000);
      expect(calls.transition(id, { to: 'ringing' }).ok).toBe(true);
      advance(3000);
      const answered = calls.transition(id, { to: 'in_progress' });
      expect(answered.ok && answered.call.answeredAt).toBe('2026-11-22T10:00:05.000Z');
      advance(61_200);
      const ended = calls.transition(id, { to: 'completed', endReason: 'caller_hangup' });
      expect(ended.ok).toBe(true);
      expect(calls.get(id)).toBeUndefined(); // ended: no longer carried in memory
      expect(await calls.find(id)).toMatchObject({
        status: 'completed',
        endReason: 'caller_hangup',
        startedAt: '2026-11-22T10:00:00.000Z',
        answeredAt: '2026-11-22T10:00:05.000Z',
        endedAt: '2026-11-22T10:01:06.200Z',
        duration: 62, // 61.2 s answered, rounded up
      });
      expect(sink.events.map((e) => e.event)).toEqual([
        'calls.initiated',
        'calls.ringing',
        'calls.answered',
        'calls.completed',
      ]);
    });

    it('keeps the SIP code of an unanswered call and its zero duration', async () => {
      const { id } = calls.create({ ...inbound, direction: 'outbound' });
      calls.transition(id, { to: 'ringing' });
      calls.transition(id, { to: 'busy', endReason: 'busy', sipStatus: 486 });
      expect(await calls.find(id)).toMatchObject({
        status: 'busy',
        sipStatus: 486,
        duration: 0,
        answeredAt: null,
      });
    });

    it.each([
      ['initiated', 'completed', 'caller_hangup'],
      ['in_progress', 'busy', 'busy'],
      ['in_progress', 'ringing', undefined],
      ['in_progress', 'failed', 'media_error'],
    ] as const)('refuses %s → %s and changes nothing', async (from, to, endReason) => {
      const { id } = calls.create(inbound);
      if (from === 'in_progress') calls.transition(id, { to: 'in_progress' });
      const before = calls.get(id);
      const eventsBefore = sink.events.length;
      const result = calls.transition(id, { to, ...(endReason ? { endReason } : {}) });
      expect(result.ok).toBe(false);
      expect(calls.get(id)).toEqual(before);
      expect(sink.events).toHaveLength(eventsBefore);
    });

    it('needs an end reason exactly for final statuses', async () => {
      const { id } = calls.create(inbound);
      expect(calls.transition(id, { to: 'ringing', endReason: 'busy' }).ok).toBe(false);
      expect(calls.transition(id, { to: 'no_answer' }).ok).toBe(false);
      expect(calls.transition(id, { to: 'no_answer', endReason: 'ring_timeout' }).ok).toBe(true);
    });

    it('ends a call exactly once when two ends race (BYE against a hangup command)', async () => {
      const { id } = calls.create(inbound);
      calls.transition(id, { to: 'in_progress' });
      const bye = calls.transition(id, { to: 'completed', endReason: 'caller_hangup' });
      const hangup = calls.transition(id, { to: 'completed', endReason: 'api_hangup' });
      expect([bye.ok, hangup.ok]).toEqual([true, false]);
      expect((await calls.find(id))?.endReason).toBe('caller_hangup');
      expect(sink.events.filter((e) => e.event === 'calls.completed')).toHaveLength(1);
    });

    it('refuses answer after cancel', async () => {
      const { id } = calls.create(inbound);
      calls.transition(id, { to: 'ringing' });
      expect(calls.transition(id, { to: 'canceled', endReason: 'canceled' }).ok).toBe(true);
      expect(calls.transition(id, { to: 'in_progress' }).ok).toBe(false);
      expect((await calls.find(id))?.status).toBe('canceled');
    });

    it('changes nothing when the outbox refuses the event', async () => {
      const { id } = calls.create(inbound);
      sink.failNext = true;
      expect(() => calls.transition(id, { to: 'ringing' })).toThrow('outbox refused the event');
      expect(calls.get(id)?.status).toBe('initiated');
      expect((await calls.find(id))?.status).toBe('initiated');
      expect(calls.transition(id, { to: 'ringing' }).ok).toBe(true);
      sink.failNext = true;
      expect(() => calls.create(inbound)).toThrow('outbox refused the event');
      expect(calls.liveCount(APP)).toBe(1);
    });

    it('writes each change to the store in order, so a restart reads what memory had', async () => {
      const { id } = calls.create(inbound);
      calls.transition(id, { to: 'ringing' });
      calls.attachRoom(id, 'room-1');
      calls.transition(id, { to: 'in_progress' });
      calls.participant(id, 'joined', 'agent-7');
      const live = calls.get(id);
      const stored = await new CallStore(db).get(id);
      expect(stored).toMatchObject({
        status: 'in_progress',
        livekitRoomName: 'room-1',
        answeredAt: live?.answeredAt,
      });
      expect((await new CallStore(db).details(id))?.answeredBy).toBe('agent-7');
    });

    it('publishes each committed transition in-process with the previous status', async () => {
      const seen: [string, string | undefined][] = [];
      calls.on('transition', (call, previous) => seen.push([call.status, previous]));
      const { id } = calls.create(inbound);
      calls.transition(id, { to: 'ringing' });
      calls.transition(id, { to: 'in_progress' });
      calls.transition(id, { to: 'ringing' }); // refused: not published
      expect(seen).toEqual([
        ['initiated', undefined],
        ['ringing', 'initiated'],
        ['in_progress', 'ringing'],
      ]);
    });

    it('counts live calls per app across directions', async () => {
      const a = calls.create(inbound);
      calls.create({ ...inbound, direction: 'outbound' });
      calls.create({ ...inbound, appId: 'app_OTHERxxxxxxxxxxxxxxxxxxxxxx' });
      expect(calls.liveCount(APP)).toBe(2);
      calls.transition(a.id, { to: 'canceled', endReason: 'canceled' });
      expect(calls.liveCount(APP)).toBe(1);
    });

    it('ends calls left live by a crash at the next start, with gateway_restart', async () => {
      const answered = calls.create(inbound);
      calls.transition(answered.id, { to: 'in_progress' });
      const ringing = calls.create(inbound);
      calls.transition(ringing.id, { to: 'ringing' });
      const restarted = new CallService({ store: new CallStore(db), events: sink, logger, now: () => clock });
      expect(await restarted.closeOrphans()).toHaveLength(2);
      expect(await restarted.find(answered.id)).toMatchObject({
        status: 'completed',
        endReason: 'gateway_restart',
      });
      expect(await restarted.find(ringing.id)).toMatchObject({
        status: 'failed',
        endReason: 'gateway_restart',
      });
      expect(restarted.liveCount(APP)).toBe(0);
    });

    it('ends orphans when the gateway died, so their duration leaves the downtime out', async () => {
      const answered = calls.create(inbound);
      calls.transition(answered.id, { to: 'in_progress' });
      advance(1300); // talked 1.3 s, then the gateway died
      const diedAt = clock;
      advance(8000); // down 8 s before the restart
      const justAnswered = calls.create(inbound);
      calls.transition(justAnswered.id, { to: 'in_progress' }); // after the last heartbeat
      const restarted = new CallService({ store: new CallStore(db), events: sink, logger, now: () => clock });
      expect(await restarted.closeOrphans(diedAt)).toHaveLength(2);
      expect(await restarted.find(answered.id)).toMatchObject({
        status: 'completed',
        endReason: 'gateway_restart',
        endedAt: diedAt.toISOString(),
        duration: 2, // whole seconds, rounded up: 1.3 s talked (9.3 s if the downtime counted)
      });
      // Never ended before it was answered.
      expect(await restarted.find(justAnswered.id)).toMatchObject({
        endedAt: clock.toISOString(),
        duration: 0,
      });
      const completed = sink.events.filter((e) => e.event === 'calls.completed' && e.callId === answered.id);
      expect(completed).toHaveLength(1);
    });

    it('writes the digits a caller sends as calls.dtmf events with the call, the digit and its source', async () => {
      const call = calls.create(inbound);
      calls.transition(call.id, { to: 'in_progress' });
      expect(calls.dtmf(call.id, '5', 'rfc4733')).toBe(true);
      expect(calls.dtmf(call.id, '#', 'sip_info')).toBe(true);
      expect(sink.events.slice(-2)).toEqual([
        {
          event: 'calls.dtmf',
          callId: call.id,
          data: { call: calls.get(call.id), digit: '5', source: 'rfc4733' },
        },
        {
          event: 'calls.dtmf',
          callId: call.id,
          data: { call: calls.get(call.id), digit: '#', source: 'sip_info' },
        },
      ]);
      expect(calls.dtmf('call_missing', '1', 'rfc4733')).toBe(false);
      expect(calls.get(call.id)?.status).toBe('in_progress');
    });
  });
});
