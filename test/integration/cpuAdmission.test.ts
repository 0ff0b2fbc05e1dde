import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuTimes } from '../../src/observability/hostCpu.js';
import { api, callGatewayConfig, callsOf, metricValue, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS } from '../support/testKeys.js';

/**
 * media.maxCpuUtilization through the whole gateway: while the machine is saturated a new call
 * is refused (INVITE 503 with Retry-After and a Reason, POST /v1/calls 503 with Retry-After),
 * /readyz says cpu is not ready, and once the machine calms down calls are taken again. The
 * machine's CPU times are the test's (a real one would be as busy as the other tests make it).
 */
let engine: SipEngineProcess;
let running: RunningGateway;
const times: CpuTimes = { busy: 0, total: 0 };

/** The machine runs one interval at `share` busy, and the gateway takes its reading. */
function machineRuns(share: number, intervals = 1): void {
  for (let i = 0; i < intervals; i++) {
    times.busy += share * 1000;
    times.total += 1000;
    running.gateway.cpu.sample();
  }
}

beforeAll(async () => {
  engine = await startSipEngine();
  running = await startInProcessGateway(
    callGatewayConfig(engine, undefined, { media: { maxCpuUtilization: 0.8 } }),
    { cpuTimes: () => ({ ...times }) },
  );
  await until(async () => running.gateway.sip.isConnected);
});
afterAll(async () => {
  await running?.stop();
  await engine?.stop();
});

function invite(expected: number) {
  return runSipp({
    scenario: 'uac-expect-final',
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    keys: { expected },
    calls: 1,
  });
}

describe('media.maxCpuUtilization', () => {
  it('refuses new calls while the machine is saturated, and takes them again after', async () => {
    machineRuns(0.99, 10);
    expect(running.gateway.cpu.overloaded()).toBe(true);
    expect(await metricValue(running, 'gateway_host_cpu_utilization')).toBeGreaterThan(0.95);

    const refused = await invite(503);
    assertAllCallsSucceeded(refused, 1);
    expect(refused.messageLog).toMatch(/Retry-After: 10/);
    expect(refused.messageLog).toMatch(/Reason: SIP;cause=503;text="cpu overloaded"/);
    expect(await callsOf(running)).toHaveLength(0);

    const placed = await fetch(`${running.url}/v1/calls`, {
      method: 'POST',
      headers: { ...bearer(KEYS.app), 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15550100', to: 'agent-7', toChannel: 'webrtc' }),
    });
    expect(placed.status).toBe(503);
    expect(placed.headers.get('retry-after')).toBe('10');
    expect(await placed.json()).toMatchObject({ error: { code: 'overloaded' } });

    const ready = await fetch(`${running.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).parts.cpu).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/above media\.maxCpuUtilization 80%/),
    });

    // Calm again: the next call rings (and is turned away by the test's 480, not by the CPU).
    machineRuns(0.2, 10);
    expect((await api(running, '/readyz')).parts.cpu).toEqual({ ok: true });
    const taken = invite(480);
    await until(async () => (await callsOf(running, 'ringing')).length === 1);
    const [ringing] = await callsOf(running, 'ringing');
    await api(running, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"reject","code":480}',
    });
    assertAllCallsSucceeded(await taken, 1);
  });
});
