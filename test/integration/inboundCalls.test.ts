import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gatewayMessageSchema } from '../../src/control/events/eventMessages.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import {
  api,
  callGatewayConfig,
  callsOf,
  metricValue,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, formatSippResult, runSipp } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

const ROUTED = ROUTED_NUMBER;
let engine: SipEngineProcess;

beforeAll(async () => {
  engine = await startSipEngine();
});
afterAll(async () => {
  await engine?.stop();
});

let running: RunningGateway | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function gateway(
  sip: Record<string, unknown> = {},
  more: Record<string, unknown> = {},
): Promise<RunningGateway> {
  running = await startInProcessGateway(
    callGatewayConfig(engine, undefined, { ...more, sip: { ringTimeoutSeconds: 30, ...sip } }),
  );
  await until(async () => ((await api(running as RunningGateway, '/readyz')) as any).parts.sip.ok === true);
  return running;
}

function expectFinal(service: string, expected: number) {
  return runSipp({
    scenario: 'uac-expect-final',
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service,
    keys: { expected },
    calls: 1,
  });
}

describe('inbound calls', () => {
  it('refuses a number no app takes with 404 and creates no call', async () => {
    const gw = await gateway();
    const result = await expectFinal('+15550100', 404);
    assertAllCallsSucceeded(result, 1);
    expect(await callsOf(gw)).toEqual([]);
  });

  it('refuses a source address no trunk lists with 403', async () => {
    const gw = await gateway({
      trunks: [{ name: 'carrier', kind: 'pstn', sourceAddresses: ['192.0.2.0/24'] }],
    });
    assertAllCallsSucceeded(await expectFinal(ROUTED, 403), 1);
    expect(await callsOf(gw)).toEqual([]);
  });

  it('rings, then ends unanswered at the ring timeout with 480 and no_answer', async () => {
    const gw = await gateway({ ringTimeoutSeconds: 1 });
    const result = await expectFinal(ROUTED, 480);
    assertAllCallsSucceeded(result, 1);
    const [call] = await callsOf(gw);
    expect(call).toMatchObject({
      direction: 'inbound',
      status: 'no_answer',
      endReason: 'ring_timeout',
      sipStatus: 480,
      toAddress: ROUTED,
      fromAddress: 'sipp',
      fromChannel: 'pstn',
      duration: 0,
      answeredAt: null,
    });
    expect(Date.parse(call.endedAt) - Date.parse(call.startedAt)).toBeGreaterThanOrEqual(1000);
    // Exactly one event per status, in order, each carrying the call as it was then.
    const events = (await gw.gateway.events.outbox.unackedAfter(0, 100)).filter((e) => e.callId === call.id);
    expect(events.map((e) => [e.event, (e.data as any).call.status])).toEqual([
      ['calls.initiated', 'initiated'],
      ['calls.ringing', 'ringing'],
      ['calls.no_answer', 'no_answer'],
    ]);
    expect(
      await metricValue(
        gw,
        'gateway_calls_ended_total{direction="inbound",status="no_answer",end_reason="ring_timeout"}',
      ),
    ).toBe(1);
    expect(await metricValue(gw, 'gateway_calls_started_total{direction="inbound",channel="pstn"}')).toBe(1);
  });

  it('records a caller CANCEL as canceled (the caller gets 487)', async () => {
    const gw = await gateway();
    const sipp = runSipp({
      scenario: 'uac-cancel',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      pauseMs: 300,
      calls: 1,
    });
    const result = await sipp;
    assertAllCallsSucceeded(result, 1);
    let calls: any[] = [];
    await until(async () => {
      calls = await callsOf(gw);
      return calls[0]?.status === 'canceled';
    });
    expect(calls[0]).toMatchObject({ status: 'canceled', endReason: 'canceled', sipStatus: 487 });
  });

  it('rejects a ringing call through the actions API with the code given', async () => {
    const gw = await gateway();
    const sipp = expectFinal(ROUTED, 486);
    const ringing = await theRingingCall(gw);
    expect(ringing.livekitRoomName).toBeNull();
    expect(await metricValue(gw, 'gateway_calls_live{direction="inbound",status="ringing"}')).toBe(1);

    const rejected = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'reject', code: 486 }),
    });
    expect(rejected).toMatchObject({ id: ringing.id, status: 'busy', endReason: 'busy', sipStatus: 486 });
    expect(await metricValue(gw, 'gateway_calls_live{direction="inbound",status="ringing"}')).toBe(0);
    const result = await sipp;
    assertAllCallsSucceeded(result, 1);

    // Decided once: neither a second reject nor an accept changes it.
    for (const action of ['reject', 'accept']) {
      const again = await fetch(`${gw.url}/v1/calls/${ringing.id}/actions`, {
        method: 'POST',
        headers: bearer(KEYS.admin),
        body: JSON.stringify({ action }),
      });
      expect(again.status, action).toBe(409);
    }
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({ status: 'busy', sipStatus: 486 });
  });

  it('an accept the gateway cannot carry out (no livekit-server) answers 502; the caller gets 503', async () => {
    // Port 9 (discard): nothing answers there, so making the call's room fails.
    const gw = await gateway({}, { livekit: { url: 'ws://127.0.0.1:9' } });
    const sipp = expectFinal(ROUTED, 503);
    const ringing = await theRingingCall(gw);
    const accept = await fetch(`${gw.url}/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: JSON.stringify({ action: 'accept' }),
    });
    expect(accept.status).toBe(502);
    expect(((await accept.json()) as any).error.code).toBe('answer_failed');
    assertAllCallsSucceeded(await sipp, 1);
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'media_error',
      sipStatus: 503,
    });
    expect(await metricValue(gw, 'gateway_calls_live{direction="inbound",status="ringing"}')).toBe(0);
  });

  it('refuses a call over maxConcurrentCalls with 486 and a Reason header', async () => {
    const gw = await gateway({ ringTimeoutSeconds: 5 });
    await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ maxConcurrentCalls: 1 }),
    });
    const first = expectFinal(ROUTED, 603);
    const ringing = await theRingingCall(gw);

    const second = await runSipp({
      scenario: 'uac-expect-final',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      keys: { expected: 486 },
      calls: 1,
      traceMessages: true,
    });
    assertAllCallsSucceeded(second, 1);
    expect(second.messageLog).toMatch(/Reason: SIP;cause=486;text="app reached maxConcurrentCalls"/);

    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"reject"}' });
    assertAllCallsSucceeded(await first, 1);
    expect((await callsOf(gw)).map((c) => c.status).sort()).toEqual(['failed']);
  });

  it('challenges a trunk with credentials and takes the call once they are right', async () => {
    const gw = await gateway({
      ringTimeoutSeconds: 1,
      trunks: [
        {
          name: 'secured',
          kind: 'pstn',
          sourceAddresses: ['127.0.0.1'],
          inboundAuth: { realm: 'gateway', username: 'carrier', password: 'correct-horse' },
        },
      ],
    });
    const wrong = await expectFinal(ROUTED, 401);
    assertAllCallsSucceeded(wrong, 1);
    expect(await callsOf(gw)).toEqual([]);

    const right = await runSipp({
      scenario: 'uac-auth-unanswered',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      authUser: 'carrier',
      authPassword: 'correct-horse',
      // The digest uri must be the Request-URI; sipp's default is sip:host:port.
      extraArgs: ['-auth_uri', `${ROUTED}@127.0.0.1:${engine.sipPort}`],
      calls: 1,
    });
    assertAllCallsSucceeded(right, 1);
    const [call] = await callsOf(gw);
    expect(call).toMatchObject({ status: 'no_answer', metadata: { trunk: 'secured' } });

    const badPassword = await runSipp({
      scenario: 'uac-auth-unanswered',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      authUser: 'carrier',
      authPassword: 'wrong-horse',
      extraArgs: ['-auth_uri', `${ROUTED}@127.0.0.1:${engine.sipPort}`],
      calls: 1,
    });
    expect(badPassword.failedCalls, formatSippResult(badPassword)).toBe(1);
    expect(await callsOf(gw)).toHaveLength(1);
  });
});

describe('hanging up a ringing inbound call', () => {
  it('PATCH status completed refuses the caller with 480 and records api_hangup', async () => {
    const gw = await gateway();
    const sipp = expectFinal(ROUTED, 480);
    const ringing = await theRingingCall(gw);
    // A flow is checked whole before it runs: one the gateway refuses leaves the call ringing.
    const flow = await fetch(`${gw.url}/v1/calls/${ringing.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.admin),
      body: JSON.stringify({
        callFlow: [
          { command: 'say', text: 'hello' },
          { command: 'playback', url: '/etc/passwd' },
        ],
      }),
    });
    expect(flow.status).toBe(400);
    expect(((await flow.json()) as any).error.details[0].field).toBe('callFlow[1].url');
    expect((await api(gw, `/v1/calls/${ringing.id}`)).status).toBe('ringing');
    const both = await fetch(`${gw.url}/v1/calls/${ringing.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.admin),
      body: JSON.stringify({ status: 'completed', callFlow: [{ command: 'hangup' }] }),
    });
    expect(both.status).toBe(400);

    const hung = await api(gw, `/v1/calls/${ringing.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ status: 'completed' }),
    });
    expect(hung).toMatchObject({ status: 'failed', endReason: 'api_hangup', sipStatus: 480 });
    assertAllCallsSucceeded(await sipp, 1);

    const again = await fetch(`${gw.url}/v1/calls/${ringing.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.admin),
      body: JSON.stringify({ status: 'completed' }),
    });
    expect(again.status).toBe(409);
  });

  it('a hangup command on the control-plane socket does the same, and the events say so', async () => {
    const plane = await ControlPlane.start();
    try {
      const gw = await gateway({}, { control: { url: plane.url, token: CONTROL_TOKEN } });
      await plane.waitForConnection(1);
      const sipp = expectFinal(ROUTED, 480);
      const ringing = await theRingingCall(gw);
      const after = plane.received.length;
      plane.send({ type: 'command', id: 'hangup-1', callId: ringing.id, action: 'hangup' });
      const result = await plane.nextMessage('result', after);
      expect(result).toMatchObject({
        id: 'hangup-1',
        ok: true,
        result: { id: ringing.id, status: 'failed', endReason: 'api_hangup' },
      });
      assertAllCallsSucceeded(await sipp, 1);
      await plane.waitFor('the final event', () =>
        plane.distinctEvents().some((e: any) => e.event === 'calls.failed' && e.data.call.id === ringing.id),
      );
      const forCall = plane.distinctEvents().filter((e: any) => e.data.call.id === ringing.id);
      expect(forCall.map((e: any) => e.event)).toEqual(['calls.initiated', 'calls.ringing', 'calls.failed']);
      for (const event of forCall) expect(gatewayMessageSchema.safeParse(event).success).toBe(true);
      expect(forCall.map((e: any) => e.seq)).toEqual(
        [...forCall.map((e: any) => e.seq)].sort((a, b) => a - b),
      );
    } finally {
      await running?.stop();
      running = undefined;
      await plane.stop();
    }
  });

  it('refuses new calls with 503 while the outbox is full, and loses no event', async () => {
    const plane = await ControlPlane.start({ autoAck: false });
    try {
      const gw = await gateway(
        { ringTimeoutSeconds: 1 },
        { control: { url: plane.url, token: CONTROL_TOKEN, outboxMaxDepth: 3 } },
      );
      await plane.waitForConnection(1);
      // One unanswered call writes initiated, ringing and no_answer: the outbox is then full.
      assertAllCallsSucceeded(await expectFinal(ROUTED, 480), 1);
      await plane.waitForEvents(3);
      const refused = await runSipp({
        scenario: 'uac-expect-final',
        target: { host: '127.0.0.1', port: engine.sipPort },
        transport: 'u1',
        service: ROUTED,
        keys: { expected: 503 },
        calls: 1,
      });
      assertAllCallsSucceeded(refused, 1);
      expect(await callsOf(gw)).toHaveLength(1);

      plane.ack(plane.distinctEvents().at(-1).seq);
      await until(async () => gw.gateway.events.canAcceptWork());
      assertAllCallsSucceeded(await expectFinal(ROUTED, 480), 1);
      expect(await callsOf(gw)).toHaveLength(2);
      await plane.waitForEvents(6);
      expect(plane.distinctEvents().map((e: any) => e.event)).toEqual([
        'calls.initiated',
        'calls.ringing',
        'calls.no_answer',
        'calls.initiated',
        'calls.ringing',
        'calls.no_answer',
      ]);
    } finally {
      await running?.stop();
      running = undefined;
      await plane.stop();
    }
  });
});
