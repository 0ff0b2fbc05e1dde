import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOOPBACK_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, ROUTED_NUMBER, theRingingCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS } from '../support/testKeys.js';

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
    mediaWorkerEntry: workerEntryPath(LOOPBACK_WORKER_ENTRY),
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
    assertAllCallsSucceeded(await sipp, 1);

    let ended: any;
    await until(async () => {
      ended = await api(gw, `/v1/calls/${ringing.id}`);
      return ended.status === 'completed';
    });
    expect(ended).toMatchObject({ endReason: 'caller_hangup' });
    expect(ended.duration).toBeGreaterThanOrEqual(1);
    await until(async () => (await portsInUse(gw)) === 0);
    expect(gw.gateway.active.size).toBe(0);
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
