import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { NotImplementedCommandHandler } from '../../src/control/events/commandHandler.js';
import { EventChannel } from '../../src/control/events/eventChannel.js';
import { EventChannelMetrics } from '../../src/control/events/eventChannelMetrics.js';
import { EventOutbox } from '../../src/control/events/eventOutbox.js';
import { Metrics } from '../../src/observability/metricsRegistry.js';
import { Database } from '../../src/store/database.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('event channel heartbeat (events appended through the outbox directly; calls do not exist yet)', () => {
  it('drops a connection whose control plane stopped answering, reconnects and resends', async () => {
    const plane = await ControlPlane.start({ autoAck: false });
    cleanups.push(() => plane.stop());
    const database = new Database({ path: ':memory:', synchronous: 'full', logger });
    cleanups.push(() => database.close());
    const outbox = await new EventOutbox({ database, logger, maxDepth: 100, enforceMaxDepth: true }).open();
    const channel = new EventChannel({
      url: plane.url,
      token: CONTROL_TOKEN,
      gatewayId: outbox.gatewayId(),
      version: 'test',
      outbox,
      commands: new NotImplementedCommandHandler(),
      logger,
      metrics: new EventChannelMetrics(new Metrics()),
      reconnect: { minMs: 20, maxMs: 100 },
      sendWindow: 10,
      heartbeatMs: 50,
    });
    channel.start();
    cleanups.push(() => channel.stop());
    await plane.nextMessage('hello', 0);
    const sent = outbox.record({
      event: 'calls.initiated',
      callId: 'call_hb',
      data: { call: { id: 'call_hb' } },
    });
    await plane.waitFor('the event on connection 1', () => plane.eventsOn(1).length === 1);

    // Answering pings keeps the connection, across many heartbeat intervals.
    const pingsBefore = plane.pings;
    await plane.waitFor('five answered pings', () => plane.pings >= pingsBefore + 5);
    expect(plane.connections).toBe(1);

    plane.answerPings = false;
    await plane.waitFor('the event on connection 2', () => plane.eventsOn(2).length === 1);
    expect(plane.eventsOn(2)[0].eventId).toBe(sent);
  });
});
