import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, callGatewayConfig, callsOf, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * media.maxSessionsPerWorker through the whole gateway: one loopback worker that takes one call.
 * A second call is refused with 503 and a Reason, at its INVITE when the worker is already full,
 * or at its accept when the worker filled while it rang; either way it holds no app slot after.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;

beforeAll(async () => {
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(
    callGatewayConfig(engine, rig, { media: { workers: 1, maxSessionsPerWorker: 1 } }),
    { mediaWorkerEntry: loopbackWorkerEntry() },
  );
  await until(async () => (await api(running, '/readyz')).ready === true);
});
afterAll(async () => {
  await running?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

function call(scenario: 'uac-wait-bye' | 'uac-expect-final') {
  return runSipp({
    scenario,
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    calls: 1,
    ...(scenario === 'uac-expect-final' ? { keys: { expected: 503 } } : {}),
  });
}

async function ringingCalls(count: number): Promise<any[]> {
  let ringing: any[] = [];
  await until(async () => {
    ringing = await callsOf(running, 'ringing');
    return ringing.length === count;
  });
  return ringing;
}

const NO_CAPACITY = /Reason: SIP;cause=503;text="no media capacity"/;

describe('media.maxSessionsPerWorker', () => {
  it('refuses a call the full workers cannot carry with 503 and a Reason, and frees its app slot', async () => {
    const first = call('uac-wait-bye');
    const [a] = await ringingCalls(1);
    const second = call('uac-expect-final');
    const b = (await ringingCalls(2)).find((ringing) => ringing.id !== a.id);

    expect(
      await api(running, `/v1/calls/${a.id}/actions`, { method: 'POST', body: '{"action":"accept"}' }),
    ).toMatchObject({ status: 'in_progress' });
    expect(running.gateway.media?.hasCapacity()).toBe(false);
    // b rang while there was room; its accept now finds none.
    const refused = await fetch(`${running.url}/v1/calls/${b.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"accept"}',
    });
    expect(refused.status).toBe(502);
    const secondResult = await second;
    assertAllCallsSucceeded(secondResult, 1);
    expect(secondResult.messageLog).toMatch(NO_CAPACITY);
    expect(await api(running, `/v1/calls/${b.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'media_error',
      sipStatus: 503,
      livekitRoomName: null,
    });
    expect(running.gateway.calls.liveCount(TEST_APP_ID)).toBe(1);

    // A new INVITE while the worker is full never rings.
    const third = await call('uac-expect-final');
    assertAllCallsSucceeded(third, 1);
    expect(third.messageLog).toMatch(NO_CAPACITY);
    expect(await callsOf(running)).toHaveLength(2);
    expect(running.gateway.calls.liveCount(TEST_APP_ID)).toBe(1);

    await api(running, `/v1/calls/${a.id}`, { method: 'PATCH', body: '{"status":"completed"}' });
    assertAllCallsSucceeded(await first, 1);
    await until(async () => running.gateway.media?.hasCapacity() === true);
    expect(running.gateway.calls.liveCount(TEST_APP_ID)).toBe(0);
  });
});
