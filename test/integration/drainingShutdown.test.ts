import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, callGatewayConfig, callsOf, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS } from '../support/testKeys.js';

/**
 * A gateway stopped with http.drainTimeoutMs drains: OPTIONS probes (a proxy's, Kamailio's) get
 * 503, new INVITEs and POST /v1/calls get 503 with Retry-After, /readyz says shutting down, while
 * the calls it has go on; the stop ends once they have ended, or ends the rest at the timeout.
 */
let engine: SipEngineProcess;
let running: RunningGateway | undefined;

beforeAll(async () => {
  engine = await startSipEngine();
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(async () => {
  await engine?.stop();
});

async function gateway(drainTimeoutMs: number): Promise<RunningGateway> {
  running = await startInProcessGateway(callGatewayConfig(engine, undefined, { http: { drainTimeoutMs } }));
  const gw = running;
  await until(async () => gw.gateway.sip.isConnected);
  return gw;
}

const sipp = (scenario: string, expected: number) =>
  runSipp({
    scenario,
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    keys: { expected },
    calls: 1,
  });

describe('a draining stop', () => {
  it('turns new calls and probes away while the live call goes on, and ends when that call does', async () => {
    const gw = await gateway(60_000);
    assertAllCallsSucceeded(await sipp('uac-options-final', 200), 1);
    const live = sipp('uac-expect-final', 480);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const [ringing] = await callsOf(gw, 'ringing');

    const started = Date.now();
    const stopped = gw.gateway.stop();
    await until(async () => (await fetch(`${gw.url}/readyz`)).status === 503);
    expect((await api(gw, '/readyz')).parts.shutdown).toEqual({ ok: false, detail: 'shutting down' });

    const probe = await sipp('uac-options-final', 503);
    assertAllCallsSucceeded(probe, 1);
    expect(probe.messageLog).toMatch(/Retry-After: 30/);
    const refused = await sipp('uac-expect-final', 503);
    assertAllCallsSucceeded(refused, 1);
    expect(refused.messageLog).toMatch(/Reason: SIP;cause=503;text="gateway draining"/);
    const placed = await fetch(`${gw.url}/v1/calls`, {
      method: 'POST',
      headers: { ...bearer(KEYS.app), 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+15550100', to: 'agent-7', toChannel: 'webrtc' }),
    });
    expect(placed.status).toBe(503);
    expect(placed.headers.get('retry-after')).toBe('30');

    // The call from before the stop is still there, and still the app's to decide.
    expect((await callsOf(gw, 'ringing')).map((call) => call.id)).toEqual([ringing.id]);
    await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"reject","code":480}',
    });
    assertAllCallsSucceeded(await live, 1);
    await stopped;
    // It stopped because its last call ended, long before the drain timeout.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('ends the calls still live when the drain timeout runs out', async () => {
    const gw = await gateway(1500);
    // Nobody answers it: at the timeout it is refused as any ringing call of a stopping gateway.
    const live = sipp('uac-expect-final', 503);
    await until(async () => (await callsOf(gw, 'ringing')).length === 1);
    const started = Date.now();
    await gw.gateway.stop();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    const refused = await live;
    assertAllCallsSucceeded(refused, 1);
    expect(refused.messageLog).toMatch(/text="gateway shutting down"/);
  });
});
