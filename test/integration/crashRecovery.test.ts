import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { livekitHttpUrl } from '../../src/livekit/livekitProbe.js';
import {
  DRACHTIO_SERVER_BIN,
  type SipServerProcess,
  startDrachtioServer,
} from '../support/drachtioServerProcess.js';
import { callGatewayConfig, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { GatewayProcess } from '../support/gatewayProcess.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp, type SippServer, startSippServer } from '../support/sipp.js';
import { AUTH_KEYS, bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * kill -9 of the gateway mid-call, with real parts: the built gateway as a child process (real
 * media workers, a real livekit-server), the embedded SIP server as another, sipp as the caller.
 * The caller must be hung up by the next gateway process (not left on dead air), and the call
 * must end when the gateway died, not when it came back. The same runs against a real
 * drachtio-server where DRACHTIO_SERVER_BIN names one (it is not in Debian).
 */
type StartServer = (options?: {
  ports?: { sipPort: number; adminPort: number };
}) => Promise<SipServerProcess>;
const servers: [string, StartServer][] = [
  ['the embedded SIP server', (options) => startSipEngine(options)],
  ...(DRACHTIO_SERVER_BIN
    ? [
        ['drachtio-server', (options) => startDrachtioServer(DRACHTIO_SERVER_BIN as string, options)] as [
          string,
          StartServer,
        ],
      ]
    : []),
];
let rig: LiveKitRig;
let engine: SipServerProcess;
let dir: string;
const gateways: GatewayProcess[] = [];
/** The app's outbound trunk: a sipp UAS on this port. */
let farPort: number;
let far: SippServer | undefined;

beforeAll(async () => {
  rig = await startLiveKit();
  farPort = await freeUdpPort();
});
afterAll(async () => {
  await rig?.server.stop();
});
afterEach(async () => {
  for (const gateway of gateways.splice(0)) {
    gateway.kill('SIGKILL');
    await gateway.exited;
  }
  await far?.stop({ graceful: false });
  far = undefined;
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startGateway(): Promise<{ gateway: GatewayProcess; url: string }> {
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      ...callGatewayConfig(engine, rig, {
        sip: {
          trunks: [
            {
              name: 'local',
              kind: 'pstn',
              sourceAddresses: ['127.0.0.1/32'],
              outbound: { host: '127.0.0.1', port: farPort, transport: 'udp' },
            },
          ],
          apps: [{ appId: TEST_APP_ID, outboundTrunk: 'local' }],
        },
      }),
      http: { port: 0 },
      log: { level: 'info', format: 'json' },
      store: { path: join(dir, 'gateway.db') },
      auth: { keys: AUTH_KEYS },
    }),
  );
  const gateway = new GatewayProcess(['--config', configFile]);
  gateways.push(gateway);
  return { gateway, url: await gateway.ready() };
}

async function api(url: string, path: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: { ...bearer(KEYS.admin), ...init.headers },
  });
  return response.json();
}

async function theCall(url: string, status: string): Promise<any> {
  let found: any[] = [];
  await until(async () => {
    found = (await api(url, `/v1/calls?appId=${TEST_APP_ID}&status=${status}`)).data;
    return found.length === 1;
  }, 30_000);
  return found[0];
}

function caller(scenario: 'uac-wait-bye' | 'uac-expect-final', keys?: Record<string, number>) {
  return runSipp({
    scenario,
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    calls: 1,
    ...(keys ? { keys } : {}),
    recvTimeoutMs: 60_000,
  });
}

/** Answers the ringing call and returns it once it is in progress. */
async function answer(url: string): Promise<any> {
  const ringing = await theCall(url, 'ringing');
  await api(url, `/v1/calls/${ringing.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
  return theCall(url, 'in_progress');
}

/** Kills the gateway as a crash would, and says when. */
async function crash(gateway: GatewayProcess): Promise<number> {
  gateway.kill('SIGKILL');
  const killedAt = Date.now();
  await gateway.exited;
  return killedAt;
}

/** Waits out a downtime long enough that a duration counting it could not pass for one that does not. */
const DOWNTIME_MS = 4000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(servers)('a gateway killed mid-call, on %s', (server, startServer) => {
  it.each([
    ['holds it', false],
    ['lost it too (it was killed as well)', true],
  ])('hangs the answered caller up when it comes back, while the SIP server %s', async (_how, engineToo) => {
    dir = mkdtempSync(join(tmpdir(), 'crash-recovery-'));
    engine = await startServer();
    const first = await startGateway();
    const sipp = caller('uac-wait-bye');
    const answered = await answer(first.url);
    await sleep(1000); // talk time, which the duration must show
    const killedAt = await crash(first.gateway);
    if (engineToo) {
      const ports = { sipPort: engine.sipPort, adminPort: engine.adminPort };
      await engine.kill();
      engine = await startServer({ ports });
    }
    await sleep(DOWNTIME_MS);

    const second = await startGateway();
    // sipp's call succeeds only once a BYE in its dialog (its Call-ID, our tags) arrived and got 200.
    assertAllCallsSucceeded(await sipp, 1);
    const ended = await api(second.url, `/v1/calls/${answered.id}`);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'gateway_restart' });
    const endedAt = Date.parse(ended.endedAt);
    expect(endedAt).toBeGreaterThanOrEqual(Date.parse(answered.answeredAt));
    // The heartbeat is written every second: the call ends within about that of the kill.
    expect(endedAt).toBeLessThanOrEqual(killedAt + 1500);
    expect(ended.duration).toBeLessThan(Math.ceil((killedAt - Date.parse(answered.answeredAt)) / 1000) + 2);
    await second.gateway.waitForLog('BYE to a call left answered by the previous gateway process');
    // The call's room is closed too: a browser in it would be talking to nobody.
    const rooms = new RoomServiceClient(livekitHttpUrl(rig.url), rig.apiKey, rig.apiSecret);
    expect(answered.livekitRoomName).toBeTruthy();
    await until(async () => (await rooms.listRooms([answered.livekitRoomName])).length === 0);
    // Through the SIP server's dialog when it has one; else built from the stored dialog.
    const rebuilt = second.gateway.lines.some(
      (line) => line.msg === 'the SIP server no longer holds the dialog; sending BYE from the stored dialog',
    );
    expect(rebuilt).toBe(engineToo);
  });

  it('leaves no caller ringing: 480, and the call failed as of the crash', async () => {
    dir = mkdtempSync(join(tmpdir(), 'crash-recovery-'));
    engine = await startServer();
    const first = await startGateway();
    const sipp = caller('uac-expect-final', { expected: 480 });
    const ringing = await theCall(first.url, 'ringing');
    const killedAt = await crash(first.gateway);
    if (server === 'the embedded SIP server') {
      // It answers 480 itself the moment the gateway's connection drops.
      assertAllCallsSucceeded(await sipp, 1);
      expect(Date.now() - killedAt).toBeLessThan(DOWNTIME_MS);
    }

    const second = await startGateway();
    // drachtio-server keeps the INVITE waiting: the next gateway answers it 480.
    assertAllCallsSucceeded(await sipp, 1);
    const ended = await api(second.url, `/v1/calls/${ringing.id}`);
    expect(ended).toMatchObject({ status: 'failed', endReason: 'gateway_restart' });
    expect(Date.parse(ended.endedAt)).toBeLessThanOrEqual(killedAt + 1500);
  });

  it.each([
    ['answered: the callee gets a BYE', 'uas-answer-pcap', 'in_progress', 'completed'],
    ['still ringing: the callee gets a CANCEL', 'uas-ring-wait-cancel', 'ringing', 'failed'],
  ])('ends an outbound call it placed, %s', async (_how, scenario, status, final) => {
    dir = mkdtempSync(join(tmpdir(), 'crash-recovery-'));
    engine = await startServer();
    far = await startSippServer({
      scenario,
      localPort: farPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const first = await startGateway();
    const placed = await fetch(`${first.url}/v1/calls`, {
      method: 'POST',
      headers: bearer(KEYS.app),
      body: JSON.stringify({ from: '+15550100', to: '+15550123' }),
    });
    expect(placed.status).toBe(201);
    const call = await theCall(first.url, status);
    const killedAt = await crash(first.gateway);
    await sleep(DOWNTIME_MS);

    const second = await startGateway();
    // The callee's scenario completes only on a BYE (or CANCEL) matching its dialog (or INVITE).
    assertAllCallsSucceeded(await far.exited, 1);
    const ended = await api(second.url, `/v1/calls/${call.id}`);
    expect(ended).toMatchObject({ status: final, endReason: 'gateway_restart' });
    expect(Date.parse(ended.endedAt)).toBeLessThanOrEqual(killedAt + 1500);
  });
});
