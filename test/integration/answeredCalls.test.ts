import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * The answer path end to end with real SIP (sipp through the embedded engine), a real
 * livekit-server and real media worker processes. The workers run the loopback stand-in
 * session handler (real ports and SDP; RTP echoed, no room audio): these tests are about
 * signalling, call state and resources, not audio.
 */
const ROUTED = ROUTED_NUMBER;
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway | undefined;

beforeAll(async () => {
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
});
afterAll(async () => {
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function expectFinal(expected: number) {
  return runSipp({
    scenario: 'uac-expect-final',
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED,
    keys: { expected },
    calls: 1,
  });
}

async function gateway(more: Record<string, unknown> = {}): Promise<RunningGateway> {
  running = await startInProcessGateway(callGatewayConfig(engine, rig, more), {
    mediaWorkerEntry: loopbackWorkerEntry(),
  });
  await until(async () => (await api(running as RunningGateway, '/readyz')).ready === true);
  return running;
}

async function portsInUse(gw: RunningGateway): Promise<number> {
  const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
  return statuses.reduce((sum, status) => sum + status.portsInUse, 0);
}

describe('answering inbound calls', () => {
  it('accept answers into the call room; the caller hangs up; the call completes and frees its port', async () => {
    const gw = await gateway();
    const sipp = runSipp({
      scenario: 'uac',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      pauseMs: 1200,
      calls: 1,
    });
    const ringing = await theRingingCall(gw);
    expect(await metricValue(gw, 'gateway_calls_phase{phase="ringing"}')).toBe(1);
    const answered = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'accept' }),
    });
    expect(answered).toMatchObject({
      id: ringing.id,
      status: 'in_progress',
      livekitRoomName: `call-${ringing.id}`,
    });
    expect(await portsInUse(gw)).toBe(1);
    expect(await metricValue(gw, 'gateway_calls_phase{phase="answered"}')).toBe(1);
    expect(await metricValue(gw, 'gateway_calls_phase{phase="ringing"}')).toBe(0);
    assertAllCallsSucceeded(await sipp, 1);

    let ended: any;
    await until(async () => {
      ended = await api(gw, `/v1/calls/${ringing.id}`);
      return ended.status === 'completed';
    });
    expect(ended).toMatchObject({ endReason: 'caller_hangup' });
    expect(ended.duration).toBeGreaterThanOrEqual(1);
    await until(async () => (await portsInUse(gw)) === 0);
    expect(gw.gateway.registry.size).toBe(0);
    expect(await metricValue(gw, 'gateway_calls_phase{phase="answered"}')).toBe(0);
  });

  it("gives the app's concurrency slot back after a media worker crash and after a caller's cancel", async () => {
    const gw = await gateway();
    await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ maxConcurrentCalls: 1 }),
    });
    const first = runSipp({
      scenario: 'uac-wait-bye',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(gw);
    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
    const pool = gw.gateway.media;
    const carrying = (await pool?.workerStatuses())?.find((status) => status.sessions === 1);
    expect(carrying).toBeDefined();
    process.kill(carrying?.pid ?? -1, 'SIGKILL');
    // The crash ends the call (the caller gets its BYE) and frees the one slot the app has.
    assertAllCallsSucceeded(await first, 1);
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({
      status: 'completed',
      endReason: 'media_error',
    });

    // Once the pool has replaced the worker (until then calls get 503, no media capacity), a
    // second call rings rather than being refused 486; its caller gives up.
    await until(async () => pool?.hasCapacity() === true);
    assertAllCallsSucceeded(
      await runSipp({
        scenario: 'uac-cancel',
        target: { host: '127.0.0.1', port: engine.sipPort },
        transport: 'u1',
        service: ROUTED,
        pauseMs: 300,
        calls: 1,
      }),
      1,
    );
    await until(async () => (await callsOf(gw)).some((call) => call.status === 'canceled'));

    // And after the cancel a third one rings too.
    const third = expectFinal(603);
    const again = await theRingingCall(gw);
    await api(gw, `/v1/calls/${again.id}/actions`, { method: 'POST', body: '{"action":"reject"}' });
    assertAllCallsSucceeded(await third, 1);
    expect((await callsOf(gw)).map((call) => call.endReason)).toEqual([
      'rejected',
      'canceled',
      'media_error',
    ]);
  });

  it('a hangup command sends BYE to an answered caller and records api_hangup', async () => {
    const gw = await gateway();
    const sipp = runSipp({
      scenario: 'uac-wait-bye',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      calls: 1,
    });
    const ringing = await theRingingCall(gw);
    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"connect"}' });
    const hung = await api(gw, `/v1/calls/${ringing.id}`, {
      method: 'PATCH',
      body: '{"status":"completed"}',
    });
    expect(hung).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    assertAllCallsSucceeded(await sipp, 1);
    await until(async () => (await portsInUse(gw)) === 0);
  });

  it('stopping the gateway sends BYE to an answered caller and records gateway_shutdown', async () => {
    const gw = await gateway();
    const sipp = runSipp({
      scenario: 'uac-wait-bye',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      calls: 1,
    });
    const ringing = await theRingingCall(gw);
    await api(gw, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
    const ended = new Promise((resolve) =>
      gw.gateway.calls.on('transition', (call) => {
        if (call.id === ringing.id && call.endedAt) resolve(call);
      }),
    );
    await gw.stop();
    running = undefined;
    expect(await ended).toMatchObject({ status: 'completed', endReason: 'gateway_shutdown' });
    assertAllCallsSucceeded(await sipp, 1);
  });

  it('refuses an offer with no codec it can use with 488 and records media_error', async () => {
    const gw = await gateway({ media: { codecs: ['opus', 'telephone-event'] } });
    const sipp = expectFinal(488); // sipp offers PCMU only
    const ringing = await theRingingCall(gw);
    const response = await fetch(`${gw.url}/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"accept"}',
    });
    expect(response.status).toBe(502);
    assertAllCallsSucceeded(await sipp, 1);
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'media_error',
      sipStatus: 488,
    });
    expect(await portsInUse(gw)).toBe(0);
  });

  it('when the media plane is gone the caller gets 503 and the call fails with media_error', async () => {
    const gw = await gateway();
    const sipp = expectFinal(503);
    const ringing = await theRingingCall(gw);
    await gw.gateway.media?.close();
    const response = await fetch(`${gw.url}/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      headers: bearer(KEYS.admin),
      body: '{"action":"accept"}',
    });
    expect(response.status).toBe(502);
    assertAllCallsSucceeded(await sipp, 1);
    expect(await api(gw, `/v1/calls/${ringing.id}`)).toMatchObject({
      status: 'failed',
      endReason: 'media_error',
    });
  });
});
