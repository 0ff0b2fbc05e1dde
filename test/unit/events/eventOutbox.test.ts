import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventOutbox, type EventOutboxOptions } from '../../../src/control/events/eventOutbox.js';
import type { AppendInput } from '../../../src/control/events/outboxTypes.js';
import { Database } from '../../../src/store/database.js';

const logger = pino({ level: 'silent' });
let database: Database;
let clock: Date;

function outbox(options: Partial<EventOutboxOptions> = {}): EventOutbox {
  return new EventOutbox({
    database,
    logger,
    maxDepth: 1000,
    enforceMaxDepth: true,
    now: () => clock,
    ...options,
  });
}

function event(callId = 'call_1', name: AppendInput['event'] = 'calls.initiated'): AppendInput {
  return { event: name, callId, data: { call: { id: callId, status: 'initiated' } } };
}

/** Resolves after the outbox's post-commit notifications have run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

beforeEach(() => {
  database = new Database({ path: ':memory:', synchronous: 'full', logger });
  clock = new Date('2026-03-01T12:00:00.000Z');
});
afterEach(() => database.close());

describe('EventOutbox', () => {
  it('assigns evt_ ids, increasing seqs and the append time', () => {
    const box = outbox();
    const first = box.append(event());
    const second = box.append(event('call_2', 'calls.ringing'));
    expect(first.eventId).toMatch(/^evt_[0-9A-Za-z]{27}$/);
    expect(second.seq).toBe(first.seq + 1);
    expect(first.timestamp).toBe('2026-03-01T12:00:00.000Z');
    expect(box.unackedAfter(0, 10)).toEqual([first, second]);
  });

  it("commits with the caller's transaction, and notifies only after it", async () => {
    const box = outbox();
    const seenDuring: number[] = [];
    let notified = 0;
    box.onAppend(() => {
      notified++;
      seenDuring.push(box.unackedAfter(0, 10).length);
    });
    database.sql.transaction(() => {
      box.append(event());
      box.append(event('call_1', 'calls.ringing'));
    })();
    expect(notified).toBe(0);
    await settled();
    expect(notified).toBe(1);
    expect(seenDuring).toEqual([2]);
  });

  it('leaves nothing to send when the transaction rolls back', async () => {
    const box = outbox();
    let notifiedRows = -1;
    box.onAppend(() => {
      notifiedRows = box.unackedAfter(0, 10).length;
    });
    expect(() =>
      database.sql.transaction(() => {
        box.append(event());
        throw new Error('the call change failed');
      })(),
    ).toThrow('the call change failed');
    await settled();
    expect(notifiedRows).toBe(0);
    expect(box.depth()).toBe(0);
    // The next event still gets a seq above every committed one.
    const next = box.append(event('call_2'));
    expect(box.unackedAfter(0, 10)).toEqual([next]);
  });

  it('waits with the notification while a manual transaction is still open', async () => {
    const box = outbox();
    let notified = 0;
    box.onAppend(() => notified++);
    database.sql.exec('BEGIN');
    box.append(event());
    await settled();
    expect(notified).toBe(0);
    database.sql.exec('ROLLBACK');
    await settled();
    await settled();
    expect(notified).toBe(1);
    expect(box.depth()).toBe(0);
  });

  it('refuses unknown event names and malformed data, rolling the caller back', () => {
    const box = outbox();
    expect(() => box.append({ ...event(), event: 'calls.exploded' as never })).toThrow(/unknown event name/);
    expect(() => box.append({ event: 'calls.initiated', callId: 'call_1', data: {} as never })).toThrow(
      /malformed data/,
    );
    expect(() => box.append({ ...event('call_1'), callId: 'call_2' })).toThrow(/carries call call_1/);
    expect(box.depth()).toBe(0);
  });

  it('acks cumulatively and idempotently, and keeps the highest acked seq', () => {
    const box = outbox();
    const seqs = Array.from({ length: 5 }, () => box.append(event()).seq);
    // A fresh database: seqs start at 1.
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(box.lastAckedSeq()).toBe(0);
    expect(box.ack(3)).toBe(3);
    expect(box.lastAckedSeq()).toBe(3);
    expect(box.ack(2)).toBe(0);
    expect(box.lastAckedSeq()).toBe(3);
    expect(box.depth()).toBe(2);
    expect(box.unackedAfter(0, 10).map((e) => e.seq)).toEqual([4, 5]);
    expect(() => box.ack(6)).toThrow(RangeError);
  });

  it('reports the age of the oldest unacked event', () => {
    const box = outbox();
    expect(box.oldestUnackedAgeMs()).toBe(0);
    box.append(event());
    clock = new Date(clock.getTime() + 7000);
    box.append(event());
    clock = new Date(clock.getTime() + 3000);
    expect(box.oldestUnackedAgeMs()).toBe(10_000);
    box.ack(1);
    expect(box.oldestUnackedAgeMs()).toBe(3000);
  });

  it('prunes acked events past retention only, unless told to prune unacked ones too', () => {
    const box = outbox();
    box.append(event());
    box.append(event());
    box.ack(1);
    clock = new Date(clock.getTime() + 60_000);
    box.append(event());
    expect(box.prune(new Date(clock.getTime() - 30_000))).toBe(1);
    expect(box.unackedAfter(0, 10).map((e) => e.seq)).toEqual([2, 3]);
    expect(box.prune(new Date(clock.getTime() - 30_000), { includeUnacked: true })).toBe(1);
    expect(box.unackedAfter(0, 10).map((e) => e.seq)).toEqual([3]);
    // AUTOINCREMENT: seqs are never reused, even after everything was pruned.
    box.ack(3);
    expect(box.prune(new Date(clock.getTime() + 1))).toBe(1);
    expect(box.append(event()).seq).toBe(4);
  });

  it('refuses work while full, counting refusals, and accepts again after acks; nothing is dropped', () => {
    let refusals = 0;
    const box = outbox({ maxDepth: 3, refusals: { inc: () => refusals++ } });
    for (let i = 0; i < 3; i++) {
      expect(box.canAcceptWork()).toBe(true);
      box.append(event());
    }
    expect(box.isFull()).toBe(true);
    expect(box.canAcceptWork()).toBe(false);
    // Calls already running still record their events.
    box.append(event());
    expect(box.canAcceptWork()).toBe(false);
    expect(refusals).toBe(2);
    expect(box.depth()).toBe(4);
    box.ack(2);
    expect(box.canAcceptWork()).toBe(true);
    expect(box.unackedAfter(0, 10).map((e) => e.seq)).toEqual([3, 4]);
  });

  it('never refuses work when no control plane is configured', () => {
    const box = outbox({ maxDepth: 1, enforceMaxDepth: false });
    box.append(event());
    box.append(event());
    expect(box.isFull()).toBe(true);
    expect(box.canAcceptWork()).toBe(true);
  });

  it('keeps one gateway id per database', () => {
    const id = outbox().gatewayId();
    expect(id).toMatch(/^gw_[0-9A-Za-z]{27}$/);
    expect(outbox().gatewayId()).toBe(id);
  });
});
