import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, ROUTED_NUMBER } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { TEST_APP_ID } from '../support/testKeys.js';

/**
 * Twenty calls at once through the whole gateway (sipp with recorded audio, embedded SIP server,
 * two media workers, a real livekit-server), each accepted by API as a control plane would. Every
 * call must complete on its caller's BYE, and afterwards no port, session or active call remains.
 */
const ROUTED = ROUTED_NUMBER;
const CALLS = 20;
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;

beforeAll(async () => {
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(callGatewayConfig(engine, rig, { media: { workers: 2 } }), {
    mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
  });
});
afterAll(async () => {
  await running?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

describe('parallel calls', () => {
  it(`answers ${CALLS} concurrent calls, completes each on BYE and releases everything`, async () => {
    const deadline = Date.now() + 60_000;
    while ((await api(running, '/readyz')).ready !== true) {
      if (Date.now() > deadline) throw new Error('gateway not ready');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sipp = runSipp({
      scenario: 'uac_pcap',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      calls: CALLS,
      rate: CALLS,
      maxConcurrent: CALLS,
      traceMessages: false,
      hardTimeoutMs: 90_000,
    });
    // The control plane's part: accept every call that rings.
    const accepted = new Set<string>();
    let done = false;
    void sipp.finally(() => {
      done = true;
    });
    while (!done && accepted.size < CALLS) {
      const ringing = (await api(running, `/v1/calls?status=ringing&appId=${TEST_APP_ID}&limit=100`))
        .data as any[];
      await Promise.all(
        ringing
          .filter((call) => !accepted.has(call.id))
          .map(async (call) => {
            accepted.add(call.id);
            await api(running, `/v1/calls/${call.id}/actions`, {
              method: 'POST',
              body: '{"action":"accept"}',
            });
          }),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertAllCallsSucceeded(await sipp, CALLS);

    const calls = (await api(running, `/v1/calls?appId=${TEST_APP_ID}&limit=100`)).data as any[];
    await expect
      .poll(
        async () =>
          (await api(running, `/v1/calls?appId=${TEST_APP_ID}&status=completed&limit=100`)).data.length,
        {
          timeout: 15_000,
        },
      )
      .toBe(CALLS);
    expect(calls).toHaveLength(CALLS);
    const statuses = (await running.gateway.media?.workerStatuses()) ?? [];
    expect(statuses.map((status) => status.sessions)).toEqual([0, 0]);
    expect(statuses.every((status) => status.portsInUse === 0)).toBe(true);
    expect(running.gateway.active.size).toBe(0);
    const completed = (await api(running, `/v1/calls?appId=${TEST_APP_ID}&status=completed&limit=100`))
      .data as any[];
    expect(new Set(completed.map((call) => call.endReason))).toEqual(new Set(['caller_hangup']));
  });
});
