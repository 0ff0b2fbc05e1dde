import { afterEach, describe, expect, it } from 'vitest';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { bearer, KEYS } from '../support/testKeys.js';

let engine: SipEngineProcess | undefined;
let running: RunningGateway | undefined;

afterEach(async () => {
  await running?.stop();
  await engine?.stop();
  running = undefined;
  engine = undefined;
});

async function sipPart(url: string): Promise<{ ok: boolean; detail?: string }> {
  const report = (await (await fetch(`${url}/readyz`)).json()) as any;
  return report.parts.sip;
}

/** Polls readiness until the sip part reads `ok` (srf connects and reconnects on its own clock). */
async function untilSip(url: string, ok: boolean, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let delay = 20;
  while (Date.now() < deadline) {
    if ((await sipPart(url)).ok === ok) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 200);
  }
  throw new Error(`readyz sip never became ${ok}: ${JSON.stringify(await sipPart(url))}`);
}

describe('the gateway and the embedded SIP server', () => {
  it('connects through drachtio-srf, reports it, and notices when the server goes away', async () => {
    engine = await startSipEngine();
    running = await startInProcessGateway({
      sip: { drachtio: { host: '127.0.0.1', port: engine.adminPort, secret: engine.secret } },
    });
    await untilSip(running.url, true);
    const metrics = await (await fetch(`${running.url}/metrics`, { headers: bearer(KEYS.metrics) })).text();
    expect(metrics).toMatch(/^gateway_sip_connected 1$/m);
    expect((await engine.counts()).apps).toBe(1);

    await engine.stop();
    engine = undefined;
    await untilSip(running.url, false);
    expect((await sipPart(running.url)).detail).toMatch(/no connection to the SIP server/);
  });

  it('is refused with a wrong secret and says so', async () => {
    engine = await startSipEngine();
    running = await startInProcessGateway({
      sip: { drachtio: { host: '127.0.0.1', port: engine.adminPort, secret: 'not-the-secret' } },
    });
    const deadline = Date.now() + 10_000;
    let part = await sipPart(running.url);
    while (!/authenticate|closed/.test(part.detail ?? '') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      part = await sipPart(running.url);
    }
    expect(part.ok).toBe(false);
    expect(part.detail).toMatch(/authenticate|closed/);
  });
});
