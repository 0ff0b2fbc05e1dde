import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.js';
import { NotImplementedCommandHandler } from '../../../src/control/events/commandHandler.js';
import { ControlPlaneEvents } from '../../../src/control/events/controlPlaneEvents.js';
import { Metrics } from '../../../src/observability/metricsRegistry.js';
import { Database } from '../../../src/store/database.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(control: { url: string | null; token: string | null }) {
  const database = new Database({ path: ':memory:', synchronous: 'full', logger });
  cleanups.push(() => database.close());
  let clock = new Date('2026-03-01T00:00:00.000Z');
  const events = new ControlPlaneEvents({
    config: { ...loadConfig({ env: {} }).control, ...control, ackedRetentionSeconds: 3600 },
    database,
    metrics: new Metrics(),
    logger,
    version: 'test',
    now: () => clock,
  });
  await events.open();
  const append = (callId: string) =>
    events.outbox.record({ event: 'calls.initiated', callId, data: { call: { id: callId } } });
  const advance = (seconds: number) => {
    clock = new Date(clock.getTime() + seconds * 1000);
  };
  const start = () => {
    events.start(new NotImplementedCommandHandler());
    cleanups.push(() => events.stop());
  };
  const rows = async () => (await database.get<{ n: number }>('SELECT COUNT(*) AS n FROM event_outbox'))?.n;
  const callIds = async () => (await events.outbox.unackedAfter(0, 10)).map((e) => e.callId);
  return { events, append, advance, start, rows, callIds };
}

describe('ControlPlaneEvents retention', () => {
  it('without a control plane, keeps only the retention window of events, acked or not', async () => {
    const { events, append, advance, start, callIds } = await setUp({ url: null, token: null });
    append('call_old');
    advance(3601);
    append('call_new');
    start();
    // The first prune runs at start, in the background.
    await vi.waitFor(async () => expect(await callIds()).toEqual(['call_new']));
    expect(events.eventChannel).toBeUndefined();
  });

  it('with a control plane, prunes acked events past retention and never an unacked one', async () => {
    // Nothing listens on port 9: the channel keeps retrying in the background, which is the point.
    const { events, append, advance, start, rows, callIds } = await setUp({
      url: 'ws://127.0.0.1:9',
      token: 't',
    });
    append('call_old_acked');
    append('call_old_unacked');
    await events.outbox.ack(1);
    advance(3601);
    append('call_new');
    start();
    await vi.waitFor(async () => expect(await rows()).toBe(2));
    expect(await callIds()).toEqual(['call_old_unacked', 'call_new']);
  });
});
