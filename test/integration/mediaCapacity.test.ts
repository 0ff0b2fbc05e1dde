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
 * A ringing call already holds its media session (it joins its room while ringing), so a second
 * call is refused at its INVITE with 503 and a Reason, and holds no app slot after.
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
    // Its media is set up while it rings: the one worker is full before anyone answers.
    await until(async () => running.gateway.media?.hasCapacity() === false);

    const second = await call('uac-expect-final');
    assertAllCallsSucceeded(second, 1);
    expect(second.messageLog).toMatch(NO_CAPACITY);
    expect(await callsOf(running)).toHaveLength(1);
    expect(running.gateway.calls.liveCount(TEST_APP_ID)).toBe(1);

    expect(
      await api(running, `/v1/calls/${a.id}/actions`, { method: 'POST', body: '{"action":"accept"}' }),
    ).toMatchObject({ status: 'in_progress' });
    const third = await call('uac-expect-final');
    assertAllCallsSucceeded(third, 1);
    expect(third.messageLog).toMatch(NO_CAPACITY);
    expect(await callsOf(running)).toHaveLength(1);

    await api(running, `/v1/calls/${a.id}`, { method: 'PATCH', body: '{"status":"completed"}' });
    assertAllCallsSucceeded(await first, 1);
    await until(async () => running.gateway.media?.hasCapacity() === true);
    expect(running.gateway.calls.liveCount(TEST_APP_ID)).toBe(0);
  });

  it('gives a ringing call’s media back when it ends unanswered', async () => {
    const ringingCall = call('uac-expect-final');
    const [a] = await ringingCalls(1);
    await until(async () => running.gateway.media?.hasCapacity() === false);
    const rejected = await fetch(`${running.url}/v1/calls/${a.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"reject","code":503}',
    });
    expect(rejected.status).toBeLessThan(300);
    assertAllCallsSucceeded(await ringingCall, 1);
    await until(async () => running.gateway.media?.hasCapacity() === true);
    expect(running.gateway.calls.liveCount(TEST_APP_ID)).toBe(0);
  });
});
