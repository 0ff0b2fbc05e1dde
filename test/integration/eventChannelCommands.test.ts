import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/control/apiError.js';
import type {
  ChannelCommand,
  CommandHandler,
  CommandOutcome,
} from '../../src/control/events/commandHandler.js';
import { EventChannel } from '../../src/control/events/eventChannel.js';
import { EventChannelMetrics } from '../../src/control/events/eventChannelMetrics.js';
import { gatewayMessageSchema } from '../../src/control/events/eventMessages.js';
import { EventOutbox } from '../../src/control/events/eventOutbox.js';
import { Metrics } from '../../src/observability/metricsRegistry.js';
import { Database } from '../../src/store/database.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';

const logger = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Stands in for the call layer: hangs up known calls, with REST's errors for the rest. */
class FakeCallCommands implements CommandHandler {
  readonly seen: ChannelCommand[] = [];
  async handle(command: ChannelCommand): Promise<CommandOutcome> {
    this.seen.push(command);
    if (command.callId === 'call_boom') throw new Error('database on fire');
    if (command.callId !== 'call_live') throw ApiError.notFound(`no call ${command.callId}`);
    return { ok: true, result: { call: { id: command.callId, status: 'completed' } } };
  }
}

async function setUp() {
  const plane = await ControlPlane.start();
  cleanups.push(() => plane.stop());
  const database = new Database({ path: ':memory:', synchronous: 'full', logger });
  cleanups.push(() => database.close());
  const outbox = await new EventOutbox({ database, logger, maxDepth: 100, enforceMaxDepth: true }).open();
  const commands = new FakeCallCommands();
  const channel = new EventChannel({
    url: plane.url,
    token: CONTROL_TOKEN,
    gatewayId: outbox.gatewayId(),
    version: 'test',
    outbox,
    commands,
    logger,
    metrics: new EventChannelMetrics(new Metrics()),
    reconnect: { minMs: 20, maxMs: 100 },
    sendWindow: 10,
  });
  channel.start();
  cleanups.push(() => channel.stop());
  await plane.nextMessage('hello', 0);
  return { plane, channel, commands, outbox };
}

describe('commands over the event channel (a stand-in handler; the call layer will provide the real one)', () => {
  it("runs a command through the handler and answers with the result under the command's id", async () => {
    const { plane, commands } = await setUp();
    plane.send({ type: 'command', id: 'cmd-1', callId: 'call_live', action: 'update', status: 'completed' });
    const result = await plane.nextMessage('result');
    expect(result).toEqual({
      type: 'result',
      id: 'cmd-1',
      ok: true,
      result: { call: { id: 'call_live', status: 'completed' } },
    });
    expect(gatewayMessageSchema.safeParse(result).success).toBe(true);
    expect(commands.seen).toEqual([
      { id: 'cmd-1', callId: 'call_live', action: 'update', params: { status: 'completed' } },
    ]);
  });

  it('answers a failed command with the REST error JSON, and an unexpected failure as internal', async () => {
    const { plane } = await setUp();
    plane.send({ type: 'command', id: 'cmd-2', callId: 'call_gone', action: 'hangup' });
    expect(await plane.nextMessage('result')).toEqual({
      type: 'result',
      id: 'cmd-2',
      ok: false,
      error: ApiError.notFound('no call call_gone').toBody().error,
    });
    const after = plane.received.length;
    plane.send({ type: 'command', id: 'cmd-3', callId: 'call_boom', action: 'hangup' });
    expect(await plane.nextMessage('result', after)).toEqual({
      type: 'result',
      id: 'cmd-3',
      ok: false,
      error: { code: 'internal', message: 'internal error' },
    });
  });

  it('closes as going away on stop and does not dial again', async () => {
    const { plane, channel } = await setUp();
    await channel.stop();
    expect(channel.isConnected).toBe(false);
    await plane.waitFor('the close', () => plane.closeCodes.length === 1);
    expect(plane.closeCodes).toEqual([1001]);
    expect(plane.handshakes).toHaveLength(1);
  });
});
