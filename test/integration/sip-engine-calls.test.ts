/**
 * The embedded SIP engine process between drachtio-srf apps and sipp, over real sockets: sipp's
 * built-in uac against an srf UAS and srf's createUAC against sipp's built-in uas, over UDP and TCP.
 */
import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp, startSippServer } from '../support/sipp.js';
import { connectSrf, LOCAL_SDP, type SrfApp, uasApp, waitForApps } from './sipEngineRig.js';

describe('embedded SIP engine with srf and sipp', () => {
  let engine: SipEngineProcess;
  const apps: SrfApp[] = [];

  beforeAll(async () => {
    engine = await startSipEngine();
  });
  afterEach(() => {
    for (const srf of apps.splice(0)) srf.disconnect();
  });
  afterAll(async () => {
    expect(await engine.stop()).toBe(0);
  });

  it.each(['u1', 't1'] as const)('sipp uac → srf UAS: 50 calls over %s', async (transport) => {
    const stats = new EventEmitter() as EventEmitter & { answered?: number; ended?: number };
    apps.push(await connectSrf(engine, uasApp(stats)));
    await waitForApps(engine, 1);
    const result = await runSipp({
      scenario: 'uac',
      transport,
      target: { host: '127.0.0.1', port: engine.sipPort },
      calls: 50,
      rate: 25,
      maxConcurrent: 50,
      pauseMs: 100,
      hardTimeoutMs: 60_000,
    });
    assertAllCallsSucceeded(result, 50);
    expect(stats.answered).toBe(50);
    expect(stats.ended).toBe(50);
  });

  it.each(['u1', 't1'] as const)('srf UAC → sipp uas: 50 calls over %s, srf hangs up', async (transport) => {
    const srf = await connectSrf(engine);
    apps.push(srf);
    const far = await startSippServer({ scenario: 'uas', transport, calls: 50 });
    const param = transport === 't1' ? ';transport=tcp' : '';
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const dialog = await srf.createUAC(`sip:service@${far.address}${param}`, { localSdp: LOCAL_SDP });
          expect(dialog.remote.sdp).toContain('v=0');
          await dialog.destroy();
        }),
      );
    }
    assertAllCallsSucceeded(await far.exited, 50);
  });
});
