/**
 * The embedded SIP engine process between drachtio-srf apps and sipp, over real sockets: basic
 * calls both ways over UDP and TCP, hangups from either side, and leak-free counts afterwards.
 */
import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import {
  connectSrf,
  LOCAL_SDP,
  runSipp,
  type SrfApp,
  uasApp,
  waitForApps,
  waitForPortBound,
} from './sipEngineRig.js';

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

  it.each(['u1', 't1'])('sipp uac → srf UAS: 50 calls over %s', async (mode) => {
    const stats = new EventEmitter() as EventEmitter & { answered?: number; ended?: number };
    apps.push(await connectSrf(engine, uasApp(stats)));
    await waitForApps(engine, 1);
    const r = await runSipp([
      '-sn',
      'uac',
      '-t',
      mode,
      '-p',
      '0',
      '-m',
      '50',
      '-r',
      '25',
      '-d',
      '100',
      '-l',
      '50',
      `127.0.0.1:${engine.sipPort}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(stats.answered).toBe(50);
    expect(stats.ended).toBe(50);
  });

  it.each(['u1', 't1'])('srf UAC → sipp uas: 50 calls over %s, srf hangs up', async (mode) => {
    const srf = await connectSrf(engine);
    apps.push(srf);
    const sippPort = await freeUdpPort();
    const sipp = runSipp(['-sn', 'uas', '-t', mode, '-p', String(sippPort), '-m', '50']);
    await waitForPortBound(sippPort, mode === 't1' ? 'tcp' : 'udp');
    const transport = mode === 't1' ? ';transport=tcp' : '';
    for (let batch = 0; batch < 5; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const dialog = await srf.createUAC(`sip:service@127.0.0.1:${sippPort}${transport}`, {
            localSdp: LOCAL_SDP,
          });
          expect(dialog.remote.sdp).toContain('v=0');
          await dialog.destroy();
        }),
      );
    }
    const r = await sipp;
    expect(r.code, r.stderr).toBe(0);
  });
});
