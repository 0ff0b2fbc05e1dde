import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gatewayMessageSchema } from '../../src/control/events/eventMessages.js';
import type { AppendInput } from '../../src/control/events/outboxTypes.js';
import { statement } from '../../src/store/sql/sqlTypes.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { bearer, KEYS } from '../support/testKeys.js';

/**
 * The event channel against a real WebSocket control plane. Calls do not exist yet in this
 * gateway, so events are appended through the outbox directly, as the call layer will append
 * them inside its transactions.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function controlPlane(options: Parameters<typeof ControlPlane.start>[0] = {}): Promise<ControlPlane> {
  const plane = await ControlPlane.start(options);
  cleanups.push(() => plane.stop());
  return plane;
}

async function gateway(
  plane: { url: string },
  control: Record<string, unknown> = {},
): Promise<RunningGateway> {
  const running = await startInProcessGateway({
    control: { url: plane.url, token: CONTROL_TOKEN, reconnectMinMs: 20, reconnectMaxMs: 200, ...control },
  });
  cleanups.push(() => running.stop());
  return running;
}

/** A call's whole life as the call layer will report it. */
function callLife(callId: string): AppendInput[] {
  const call = (status: string) => ({ id: callId, status, direction: 'inbound' });
  return [
    { event: 'calls.initiated', callId, data: { call: call('initiated') } },
    { event: 'calls.ringing', callId, data: { call: call('ringing') } },
    { event: 'calls.answered', callId, data: { call: call('in_progress') } },
    {
      event: 'calls.participant.joined',
      callId,
      data: { call: call('in_progress'), participant: { identity: 'agent' } },
    },
    { event: 'calls.dtmf', callId, data: { call: call('in_progress'), digit: '5' } },
    {
      event: 'calls.participant.left',
      callId,
      data: { call: call('in_progress'), participant: { identity: 'agent' } },
    },
    { event: 'calls.completed', callId, data: { call: call('completed') } },
  ];
}

function append(running: RunningGateway, events: AppendInput[]): void {
  const { outbox } = running.gateway.events;
  // One transaction per event, as each call transition is its own.
  for (const event of events) outbox.record(event);
}

async function metric(running: RunningGateway, name: string): Promise<number> {
  const text = await (await fetch(`${running.url}/metrics`, { headers: bearer(KEYS.metrics) })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.split(' ')[1]);
}

/**
 * Resolves once `check` holds about the gateway's side, re-checked whenever its channel reports
 * something (an ack recorded, a connection made or lost); rejects at the deadline.
 */
function gatewaySide(
  running: RunningGateway,
  what: string,
  check: () => boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const channel = running.gateway.events.eventChannel;
  if (!channel) throw new Error('the event channel is off');
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const names = ['acked', 'connected', 'disconnected'] as const;
    const onChange = () => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`gateway: timed out waiting for ${what}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      for (const name of names) channel.off(name, onChange);
    };
    for (const name of names) channel.on(name, onChange);
  });
}

function expectInOrder(events: any[]): void {
  const seqs = events.map((e) => e.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  expect(new Set(seqs).size).toBe(seqs.length);
}

describe('event channel (events appended through the outbox directly; calls do not exist yet)', () => {
  it("delivers a call's event sequence in order, each message valid against the published schema", async () => {
    const plane = await controlPlane();
    const running = await gateway(plane);
    await plane.waitForConnection(1);
    const life = callLife('call_life_1');
    append(running, life);
    await plane.waitForEvents(life.length);

    const schemaResponse = await fetch(`${running.url}/v1/events/schema`, { headers: bearer(KEYS.app) });
    expect(schemaResponse.status).toBe(200);
    const published = z.fromJSONSchema((await schemaResponse.json()) as any);

    const messages = plane.received.map((r) => r.message);
    expect(messages[0]).toMatchObject({
      type: 'hello',
      version: '0.0.0-test',
      lastAckedSeq: 0,
      gatewayId: running.gateway.events.outbox.gatewayId(),
    });
    for (const message of messages) {
      expect(gatewayMessageSchema.safeParse(message).error).toBeUndefined();
      expect(published.safeParse(message).success, JSON.stringify(message)).toBe(true);
    }
    expect(plane.events.map((e) => e.event)).toEqual(life.map((e) => e.event));
    expect(plane.events.map((e) => e.data)).toEqual(life.map((e) => e.data));
    expectInOrder(plane.events);
    expect(plane.handshakes).toEqual([`Bearer ${CONTROL_TOKEN}`]);

    await gatewaySide(running, 'acks recorded', () => running.gateway.events.outbox.depth() === 0);
    expect(running.gateway.events.outbox.lastAckedSeq()).toBe(plane.events.at(-1).seq);
    expect(await metric(running, 'gateway_event_channel_connected')).toBe(1);
    expect(await metric(running, 'gateway_event_channel_events_sent_total')).toBe(life.length);
    expect(await metric(running, 'gateway_event_channel_events_acked_total')).toBe(life.length);
    expect(await metric(running, 'gateway_event_outbox_depth')).toBe(0);
  });

  it('never sends an event whose transaction rolled back', async () => {
    const plane = await controlPlane();
    const running = await gateway(plane);
    await plane.waitForConnection(1);
    const { outbox } = running.gateway.events;
    const [initiated, ringing] = callLife('call_rb');
    // The change its event goes with fails (gateway_liveness holds one row, id 1): the batch
    // rolls back whole, and the event is never sent.
    const failing = statement('INSERT INTO gateway_liveness (id, alive_at) VALUES (2, ?)', 'never');
    outbox.commit([outbox.append(initiated as AppendInput), failing]);
    append(running, [ringing as AppendInput]);
    await plane.waitForEvents(1);
    await gatewaySide(running, 'ack recorded', () => outbox.depth() === 0);
    expect(plane.events.map((e) => e.event)).toEqual(['calls.ringing']);
  });

  it('loses nothing when the control plane goes away mid-stream and comes back: every event, in order', async () => {
    const plane = await controlPlane({ autoAck: false });
    const running = await gateway(plane);
    await plane.waitForConnection(1);
    append(running, [...callLife('call_a'), ...callLife('call_b')]);
    await plane.waitForEvents(14);
    plane.ack(plane.events[5].seq);
    await gatewaySide(
      running,
      'ack recorded',
      () => running.gateway.events.outbox.lastAckedSeq() === plane.events[5].seq,
    );
    await plane.stop();

    // While it is away: the gateway is disconnected, still ready as far as events go, and records.
    await gatewaySide(running, 'disconnect noticed', () => !running.gateway.events.eventChannel?.isConnected);
    append(running, callLife('call_c'));
    expect(await metric(running, 'gateway_event_channel_connected')).toBe(0);
    expect(await metric(running, 'gateway_event_outbox_depth')).toBe(21 - 6);
    const readiness = (await (await fetch(`${running.url}/readyz`)).json()) as any;
    expect(Object.keys(readiness.parts)).not.toContain('events');

    const back = await controlPlane({ port: plane.port });
    await back.waitForEvents(21 - 6);
    const hello = back.received[0]?.message;
    expect(hello).toMatchObject({ type: 'hello', lastAckedSeq: plane.events[5].seq });
    expectInOrder(back.events);
    const all = [...plane.distinctEvents().slice(0, 6), ...back.distinctEvents()];
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => all[0].seq + i));
    expect(all.map((e) => e.data.call.id)).toEqual([
      ...Array(7).fill('call_a'),
      ...Array(7).fill('call_b'),
      ...Array(7).fill('call_c'),
    ]);
    expect(await metric(running, 'gateway_event_channel_reconnects_total')).toBeGreaterThanOrEqual(1);
  });

  it('resends unacked events after a reconnect, in order, with the same eventIds', async () => {
    const plane = await controlPlane({ autoAck: false });
    const running = await gateway(plane);
    await plane.waitForConnection(1);
    append(running, callLife('call_r'));
    await plane.waitForEvents(7);
    plane.dropConnections();
    await plane.waitFor('7 events on connection 2', () => plane.eventsOn(2).length >= 7);

    const first = plane.eventsOn(1);
    const second = plane.eventsOn(2);
    expect(second.map((e) => [e.seq, e.eventId, e.event])).toEqual(
      first.map((e) => [e.seq, e.eventId, e.event]),
    );
    expect(plane.messagesOfType('hello').map((h) => h.lastAckedSeq)).toEqual([0, 0]);
    expect(await metric(running, 'gateway_event_channel_events_resent_total')).toBe(7);
    expect(running.gateway.events.outbox.depth()).toBe(7);
  });

  it('keeps at most sendWindow events in flight until acks arrive', async () => {
    const plane = await controlPlane({ autoAck: false });
    const running = await gateway(plane, { sendWindow: 3 });
    await plane.waitForConnection(1);
    append(running, callLife('call_w'));
    await plane.waitForEvents(3);
    // Round-trip a message to be sure nothing more was on its way.
    plane.send({ type: 'nope' });
    await plane.nextMessage('error');
    expect(plane.events).toHaveLength(3);
    plane.ack(plane.events[1].seq);
    await plane.waitForEvents(5);
    plane.autoAck = true;
    plane.ack(plane.events[4].seq);
    await plane.waitForEvents(7);
    expectInOrder(plane.events);
  });

  it('refuses new work while the outbox is full, drops nothing, and accepts again once acked', async () => {
    const plane = await controlPlane({ autoAck: false });
    const running = await gateway(plane, { outboxMaxDepth: 5 });
    const { events } = running.gateway;
    await plane.waitForConnection(1);
    expect(events.canAcceptWork()).toBe(true);
    append(running, callLife('call_f'));
    expect(events.canAcceptWork()).toBe(false);
    expect(events.outbox.depth()).toBe(7);
    expect(await metric(running, 'gateway_event_outbox_refusals_total')).toBe(1);
    await plane.waitForEvents(7);
    plane.ack(plane.events[6].seq);
    await gatewaySide(running, 'acks recorded', () => events.outbox.depth() === 0);
    expect(events.canAcceptWork()).toBe(true);
    expect(plane.distinctEvents().map((e) => e.event)).toEqual(callLife('x').map((e) => e.event));
  });

  it('answers malformed, unknown and gateway-only messages with an error, and changes nothing', async () => {
    const plane = await controlPlane({ autoAck: false });
    const running = await gateway(plane);
    const { outbox } = running.gateway.events;
    await plane.waitForConnection(1);
    append(running, callLife('call_m').slice(0, 3));
    await plane.waitForEvents(3);
    plane.ack(plane.events[0].seq);
    await gatewaySide(running, 'ack recorded', () => outbox.lastAckedSeq() === plane.events[0].seq);
    const before = { acked: outbox.lastAckedSeq(), depth: outbox.depth() };

    const cases: [unknown, string, string?][] = [
      ['this is not json', 'invalid_json'],
      [Buffer.from([1, 2, 3]), 'invalid_message'],
      [[1, 2], 'unknown_message'],
      [{ type: 'reboot' }, 'unknown_message'],
      [{ type: 'event', event: 'calls.completed', seq: 99 }, 'forbidden'],
      [{ type: 'hello', gatewayId: 'gw_x' }, 'forbidden'],
      [{ type: 'result', id: 'r1', ok: true }, 'forbidden', 'r1'],
      [{ type: 'ack', seq: -1 }, 'invalid_message'],
      [{ type: 'ack', seq: 'all' }, 'invalid_message'],
      [{ type: 'ack', seq: plane.events[2].seq + 10 }, 'invalid_ack'],
      [{ type: 'command', id: 'c1', action: 'hangup' }, 'invalid_message', 'c1'],
      [{ type: 'command', id: 'c2', callId: 'call_m', action: 'self_destruct' }, 'invalid_message', 'c2'],
    ];
    for (const [message, code, id] of cases) {
      const after = plane.received.length;
      plane.send(message);
      const answer = await plane.nextMessage('error', after);
      expect(answer.error.code, JSON.stringify(message)).toBe(code);
      expect(answer.id).toBe(id);
      expect(gatewayMessageSchema.safeParse(answer).success).toBe(true);
      expect({ acked: outbox.lastAckedSeq(), depth: outbox.depth() }).toEqual(before);
    }
    const details = (await (async () => {
      const after = plane.received.length;
      plane.send({ type: 'ack', seq: 0 });
      return plane.nextMessage('error', after);
    })()) as any;
    expect(details.error.details).toEqual([{ field: 'seq', message: expect.any(String) }]);
    // Still connected on the same socket, and a valid ack still works.
    expect(plane.connections).toBe(1);
    plane.ack(plane.events[2].seq);
    await gatewaySide(running, 'ack recorded', () => outbox.depth() === 0);
    expect(await metric(running, 'gateway_event_channel_rejected_messages_total{code="forbidden"}')).toBe(3);
  });

  it('answers a command with a result under its id, with the REST error for a call it cannot act on', async () => {
    const plane = await controlPlane();
    const running = await gateway(plane);
    await plane.waitForConnection(1);
    plane.send({ type: 'command', id: 'cmd-41', callId: 'call_x', action: 'hangup' });
    const malformed = await plane.nextMessage('result');
    expect(malformed).toEqual({
      type: 'result',
      id: 'cmd-41',
      ok: false,
      error: {
        code: 'invalid_request',
        message: expect.any(String),
        details: [{ field: 'callId', message: expect.any(String) }],
      },
    });

    const ended = running.gateway.calls.create({
      appId: 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X',
      direction: 'inbound',
      fromAddress: '+15550100',
      toAddress: '+15550199',
      fromChannel: 'pstn',
      toChannel: 'webrtc',
    });
    running.gateway.calls.transition(ended.id, { to: 'canceled', endReason: 'canceled' });
    const after = plane.received.length;
    plane.send({ type: 'command', id: 'cmd-42', callId: ended.id, action: 'hangup' });
    const result = await plane.nextMessage('result', after);
    expect(result).toEqual({
      type: 'result',
      id: 'cmd-42',
      ok: false,
      error: { code: 'conflict', message: expect.stringContaining('is canceled and cannot be hung up') },
    });
    expect(gatewayMessageSchema.safeParse(result).success).toBe(true);
    expect(
      await metric(running, 'gateway_event_channel_commands_total{action="hangup",outcome="conflict"}'),
    ).toBe(1);
  });

  it('keeps dialling with the configured token while the control plane refuses it; readiness is unaffected', async () => {
    const plane = await controlPlane({ token: 'a-different-token' });
    const running = await gateway(plane);
    await plane.waitFor('three refused handshakes', () => plane.handshakes.length >= 3);
    expect(plane.connections).toBe(0);
    expect(new Set(plane.handshakes)).toEqual(new Set([`Bearer ${CONTROL_TOKEN}`]));
    expect(await metric(running, 'gateway_event_channel_connected')).toBe(0);
    append(running, callLife('call_t').slice(0, 1));
    expect(running.gateway.events.canAcceptWork()).toBe(true);
    const readiness = (await (await fetch(`${running.url}/readyz`)).json()) as any;
    // The event channel is no part of readiness; the media plane every gateway runs is.
    expect(Object.keys(readiness.parts).sort()).toEqual(['cpu', 'livekit', 'media', 'sip', 'storage']);
  });
});

describe('event channel off (control.url null)', () => {
  it('still records events, and never refuses work on their account', async () => {
    const running = await startInProcessGateway({ control: { outboxMaxDepth: 2 } });
    cleanups.push(() => running.stop());
    append(running, callLife('call_off'));
    expect(running.gateway.events.outbox.depth()).toBe(7);
    expect(running.gateway.events.eventChannel).toBeUndefined();
    expect(running.gateway.events.canAcceptWork()).toBe(true);
  });
});
