import pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventOutbox, type EventOutboxOptions } from '../../../src/control/events/eventOutbox.js';
import type { AppendInput } from '../../../src/control/events/outboxTypes.js';
import { type SqlStore, statement } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines } from '../../support/storeEngines.js';

const logger = pino({ level: 'silent' });

function event(callId = 'call_1', name: AppendInput['event'] = 'calls.initiated'): AppendInput {
  return { event: name, callId, data: { call: { id: callId, status: 'initiated' } } };
}

/** A statement that always fails (gateway_liveness holds one row, id 1): its batch rolls back. */
const failing = () => statement('INSERT INTO gateway_liveness (id, alive_at) VALUES (2, ?)', 'never');

describe.each(storeEngines())('EventOutbox on $name', (engine: StoreEngine) => {
  let database: SqlStore;
  let clock: Date;

  async function outbox(options: Partial<EventOutboxOptions> = {}): Promise<EventOutbox> {
    return new EventOutbox({
      database,
      logger,
      maxDepth: 1000,
      enforceMaxDepth: true,
      now: () => clock,
      ...options,
    }).open();
  }

  /** Resolves once every batch handed over so far is committed and its listeners have run. */
  async function settled(): Promise<void> {
    await database.write([]);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  beforeEach(async () => {
    await database?.close();
    database = await engine.open();
    clock = new Date('2026-03-01T12:00:00.000Z');
  }, 30_000);
  afterAll(async () => {
    await database?.close();
    await engine.dispose();
  });

  it('assigns evt_ ids, increasing seqs and the append time', async () => {
    const box = await outbox();
    const first = box.record(event());
    const second = box.record(event('call_2', 'calls.ringing'));
    expect(first).toMatch(/^evt_[0-9A-Za-z]{27}$/);
    const events = await box.unackedAfter(0, 10);
    expect(events.map((e) => e.eventId)).toEqual([first, second]);
    expect(events[1]?.seq).toBe((events[0]?.seq ?? 0) + 1);
    expect(events[0]).toMatchObject({
      event: 'calls.initiated',
      callId: 'call_1',
      timestamp: '2026-03-01T12:00:00.000Z',
    });
  });

  it('commits a change and its events together, and notifies once they are committed', async () => {
    const box = await outbox();
    const seen: number[] = [];
    box.onAppend(() => {
      void box.unackedAfter(0, 10).then((rows) => seen.push(rows.length));
    });
    box.commit([
      statement('INSERT INTO gateway_liveness (id, alive_at) VALUES (1, ?)', 'now'),
      box.append(event()),
      box.append(event('call_1', 'calls.ringing')),
    ]);
    expect(box.depth()).toBe(2);
    await settled();
    await settled();
    expect(seen).toEqual([2]);
  });

  it('leaves nothing to send when the batch fails, and the depth goes back', async () => {
    const box = await outbox();
    let notified = 0;
    box.onAppend(() => notified++);
    box.commit([box.append(event()), failing()]);
    await settled();
    expect(notified).toBe(0);
    expect(box.depth()).toBe(0);
    expect(await box.unackedAfter(0, 10)).toEqual([]);
    // The next event is committed and sent as usual.
    const next = box.record(event('call_2'));
    await settled();
    expect((await box.unackedAfter(0, 10)).map((e) => e.eventId)).toEqual([next]);
  });

  it('refuses unknown event names and malformed data before anything is committed', async () => {
    const box = await outbox();
    expect(() => box.append({ ...event(), event: 'calls.exploded' as never })).toThrow(/unknown event name/);
    expect(() => box.append({ event: 'calls.initiated', callId: 'call_1', data: {} as never })).toThrow(
      /malformed data/,
    );
    expect(() => box.append({ ...event('call_1'), callId: 'call_2' })).toThrow(/carries call call_1/);
    expect(box.depth()).toBe(0);
  });

  it('acks cumulatively and idempotently, and keeps the highest acked seq across a reopen', async () => {
    const box = await outbox();
    for (let i = 0; i < 5; i++) box.record(event());
    const seqs = (await box.unackedAfter(0, 10)).map((e) => e.seq);
    expect(seqs).toHaveLength(5);
    const [s1, , s3, , s5] = seqs as [number, number, number, number, number];
    expect(box.lastAckedSeq()).toBe(0);
    expect(await box.ack(s3)).toBe(3);
    expect(box.lastAckedSeq()).toBe(s3);
    expect(await box.ack(s1)).toBe(0);
    expect(box.lastAckedSeq()).toBe(s3);
    expect(box.depth()).toBe(2);
    expect((await box.unackedAfter(0, 10)).map((e) => e.seq)).toEqual(seqs.slice(3));
    await expect(box.ack(s5 + 1)).rejects.toThrow(RangeError);
    const reopened = await outbox();
    expect(reopened.lastAckedSeq()).toBe(s3);
    expect(reopened.depth()).toBe(2);
  });

  it('reports the age of the oldest unacked event', async () => {
    const box = await outbox();
    expect(await box.oldestUnackedAgeMs()).toBe(0);
    box.record(event());
    clock = new Date(clock.getTime() + 7000);
    box.record(event());
    clock = new Date(clock.getTime() + 3000);
    expect(await box.oldestUnackedAgeMs()).toBe(10_000);
    await box.ack((await box.unackedAfter(0, 1))[0]?.seq ?? 0);
    expect(await box.oldestUnackedAgeMs()).toBe(3000);
  });

  it('prunes acked events past retention only, unless told to prune unacked ones too', async () => {
    const box = await outbox();
    box.record(event());
    box.record(event());
    const [first] = await box.unackedAfter(0, 10);
    await box.ack(first?.seq ?? 0);
    clock = new Date(clock.getTime() + 60_000);
    box.record(event());
    const all = await box.highestSeq();
    expect(await box.prune(new Date(clock.getTime() - 30_000))).toBe(1);
    expect((await box.unackedAfter(0, 10)).length).toBe(2);
    expect(await box.prune(new Date(clock.getTime() - 30_000), { includeUnacked: true })).toBe(1);
    expect((await box.unackedAfter(0, 10)).map((e) => e.seq)).toEqual([all]);
    expect(box.depth()).toBe(1);
    // Seqs are never reused, even after everything was pruned.
    await box.ack(all);
    expect(await box.prune(new Date(clock.getTime() + 1))).toBe(1);
    box.record(event());
    expect(await box.highestSeq()).toBeGreaterThan(all);
  });

  it('refuses work while full, counting refusals, and accepts again after acks; nothing is dropped', async () => {
    let refusals = 0;
    const box = await outbox({ maxDepth: 3, refusals: { inc: () => refusals++ } });
    for (let i = 0; i < 3; i++) {
      expect(box.canAcceptWork()).toBe(true);
      box.record(event());
    }
    expect(box.isFull()).toBe(true);
    expect(box.canAcceptWork()).toBe(false);
    // Calls already running still record their events.
    box.record(event());
    expect(box.canAcceptWork()).toBe(false);
    expect(refusals).toBe(2);
    expect(box.depth()).toBe(4);
    const seqs = (await box.unackedAfter(0, 10)).map((e) => e.seq);
    await box.ack(seqs[1] ?? 0);
    expect(box.canAcceptWork()).toBe(true);
    expect((await box.unackedAfter(0, 10)).map((e) => e.seq)).toEqual(seqs.slice(2));
  });

  it('never refuses work when no control plane is configured', async () => {
    const box = await outbox({ maxDepth: 1, enforceMaxDepth: false });
    box.record(event());
    box.record(event());
    expect(box.isFull()).toBe(true);
    expect(box.canAcceptWork()).toBe(true);
  });

  it('keeps one gateway id per database', async () => {
    const id = (await outbox()).gatewayId();
    expect(id).toMatch(/^gw_[0-9A-Za-z]{27}$/);
    expect((await outbox()).gatewayId()).toBe(id);
  });
});
