/**
 * SIP call flows through the embedded engine process with drachtio-srf apps on one side and sipp
 * playing XML scenarios on the other: hangup from the app, CANCEL, rejections passed through,
 * 407 digest, hold/resume re-INVITEs and INFO both ways, OPTIONS, and calls under packet loss.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp, type SippResult, startSippServer } from '../support/sipp.js';
import { connectSrf, LOCAL_SDP, type SrfApp, type SrfDialog, uasApp, waitForApps } from './sipEngineRig.js';
import {
  DIGEST,
  digestScenario,
  UAS_REINVITE_CANCELED_BY_BYE,
  writeScenario,
  writeScenarios,
} from './sipEngineScenarios.js';

const withDirection = (direction: string): string => LOCAL_SDP.replace('a=sendrecv', `a=${direction}`);

describe('embedded SIP engine call flows (srf ⇄ engine ⇄ sipp)', () => {
  let engine: SipEngineProcess;
  let scenarios: Record<string, string>;
  const apps: SrfApp[] = [];

  beforeAll(async () => {
    engine = await startSipEngine();
    scenarios = writeScenarios();
  });
  afterEach(async () => {
    for (const srf of apps.splice(0)) srf.disconnect();
    await engine.waitForCounts((c) => c.apps === 0, 5000);
  });
  afterAll(async () => {
    expect(await engine.stop()).toBe(0);
  });

  async function app(configure: (srf: SrfApp) => void = () => {}): Promise<SrfApp> {
    const srf = await connectSrf(engine, configure);
    apps.push(srf);
    await waitForApps(engine, 1);
    return srf;
  }

  /** Runs a UAC scenario of ours against the engine; every call must succeed. */
  async function uac(name: string, calls: number): Promise<SippResult> {
    const result = await runSipp({
      scenario: scenarios[name] ?? name,
      target: { host: '127.0.0.1', port: engine.sipPort },
      calls,
      rate: 10,
    });
    assertAllCallsSucceeded(result, calls);
    return result;
  }

  /** Starts a one-call UAS scenario of ours, on `port` when the scenario depends on it. */
  async function uas(name: string, port?: number, file = scenarios[name] ?? name) {
    const server = await startSippServer({
      scenario: file,
      calls: 1,
      ...(port !== undefined ? { localPort: port } : {}),
    });
    return { port: server.port, done: server.exited };
  }

  it('inbound call answered, then the app hangs up: sipp gets the BYE', async () => {
    const stats = new EventEmitter();
    await app((srf) =>
      srf.invite((req, res) => {
        srf.createUAS(req, res, { localSdp: LOCAL_SDP }).then((dialog) => {
          dialog.on('ack', () => {
            void dialog.destroy().then(() => stats.emit('hungup'));
          });
        });
      }),
    );
    let hungUp = 0;
    // srf learns the BYE was answered just after sipp, having answered it, exits.
    const allHungUp = new Promise<void>((resolve) =>
      stats.on('hungup', () => {
        if (++hungUp === 5) resolve();
      }),
    );
    await uac('uac-remote-bye', 5);
    await allHungUp;
    expect(hungUp).toBe(5);
  });

  it('CANCEL before answer: the app sees cancel, sipp gets 200 and 487', async () => {
    let cancels = 0;
    await app((srf) =>
      srf.invite((req, res) => {
        req.on('cancel', () => cancels++);
        res.send(180);
      }),
    );
    await uac('uac-cancel', 5);
    expect(cancels).toBe(5);
  });

  it.each([486, 603, 480])(
    'an outbound call rejected with %i reaches the app with that code',
    async (status) => {
      const srf = await app();
      const far = await uas(`uas-reject-${status}`);
      const err = await srf.createUAC(`sip:service@127.0.0.1:${far.port}`, { localSdp: LOCAL_SDP }).then(
        () => undefined,
        (e: { status?: number }) => e,
      );
      expect(err?.status).toBe(status);
      assertAllCallsSucceeded(await far.done, 1);
    },
  );

  it.each([486, 603])(
    'an inbound call the app rejects with %i reaches sipp with that code',
    async (status) => {
      await app((srf) => srf.invite((_req, res) => res.send(status)));
      const r = await runSipp({ scenario: 'uac', target: { host: '127.0.0.1', port: engine.sipPort } });
      // The built-in uac expects a 200: the call fails, on the status the app chose.
      expect(r.exitCode).toBe(1);
      expect(r.failedCalls).toBe(1);
      expect(r.messageLog).toMatch(new RegExp(`^SIP/2.0 ${status} `, 'm'));
    },
  );

  it('outbound call through a 407 digest challenge with srf credentials', async () => {
    const srf = await app();
    const port = await freeUdpPort();
    const uri = `sip:service@127.0.0.1:${port}`;
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${DIGEST.username}:${DIGEST.realm}:${DIGEST.password}`);
    const expected = md5(`${ha1}:${DIGEST.nonce}:${md5(`INVITE:${uri}`)}`);
    const far = await uas('uas-digest', port, writeScenario('uas-digest', digestScenario(expected)));
    const dialog = await srf.createUAC(uri, {
      localSdp: LOCAL_SDP,
      auth: { username: DIGEST.username, password: DIGEST.password },
    });
    expect(dialog.remote.sdp).toContain('v=0');
    await dialog.destroy();
    assertAllCallsSucceeded(await far.done, 1);
  });

  it('inbound hold (sendonly) and back by re-INVITE, INFO and BYE from sipp reach the app', async () => {
    const seen: string[] = [];
    await app((srf) =>
      srf.invite((req, res) => {
        // The callback form: listeners are on before srf reads the next message. With the promise,
        // an ACK and re-INVITE read in one chunk meet a dialog with no 'modify' listener yet.
        srf.createUAS(req, res, { localSdp: LOCAL_SDP }, (error: unknown, dialog: SrfDialog) => {
          if (error) return;
          dialog.on('modify', (mreq: { body: string }, mres: { send(s: number, o: object): void }) => {
            const held = mreq.body.includes('a=sendonly');
            seen.push(held ? 'hold' : 'resume');
            mres.send(200, { body: withDirection(held ? 'recvonly' : 'sendrecv') });
          });
          dialog.on('info', (ireq: { get(h: string): string }, ires: { send(s: number): void }) => {
            seen.push(`info:${ireq.get('Content-Type')}`);
            ires.send(200);
          });
          dialog.on('destroy', () => seen.push('bye'));
        });
      }),
    );
    await uac('uac-reinvite-info', 1);
    expect(seen).toEqual(['hold', 'resume', 'info:application/dtmf-relay', 'bye']);
  });

  it('outbound: the app holds and resumes by re-INVITE, sends INFO and hangs up', async () => {
    const srf = await app();
    const far = await uas('uas-reinvite-info');
    const dialog = await srf.createUAC(`sip:service@127.0.0.1:${far.port}`, { localSdp: LOCAL_SDP });
    const held = await dialog.modify(withDirection('sendonly'));
    expect(held).toContain('a=recvonly');
    const resumed = await dialog.modify(withDirection('sendrecv'));
    expect(resumed).toContain('a=sendrecv');
    const info = await dialog.request({
      method: 'INFO',
      headers: { 'Content-Type': 'application/dtmf-relay' },
      body: 'Signal=1\r\nDuration=100\r\n',
    });
    expect(info.status).toBe(200);
    await dialog.destroy();
    assertAllCallsSucceeded(await far.done, 1);
  });

  it('a BYE from the app while its re-INVITE is pending cancels the re-INVITE first', async () => {
    const srf = await app();
    const port = await freeUdpPort();
    const far = await uas(
      'uas-reinvite-bye',
      port,
      writeScenario('uas-reinvite-bye', UAS_REINVITE_CANCELED_BY_BYE),
    );
    const dialog = await srf.createUAC(`sip:service@127.0.0.1:${far.port}`, { localSdp: LOCAL_SDP });
    const trying = 'messages_total{direction="in",kind="response",name="100"}';
    const before = (await engine.counts())[trying] ?? 0;
    const modified = dialog.modify(withDirection('sendonly')).then(
      () => 'answered',
      (err: { status?: number }) => err.status,
    );
    // Hang up once sipp's 100 to the re-INVITE is in, so the engine must CANCEL before its BYE.
    const seen = await engine.waitForCounts((c) => (c[trying] ?? 0) > before, 5000);
    expect(seen[trying]).toBeGreaterThan(before);
    await dialog.destroy();
    assertAllCallsSucceeded(await far.done, 1);
    expect(await modified).toBe(487);
  });

  it('reports cdr:attempt, cdr:start and cdr:stop to an app that routed them', async () => {
    const cdrs: string[] = [];
    const stats = new EventEmitter() as EventEmitter & { answered?: number };
    await app((srf) => {
      uasApp(stats)(srf);
      for (const event of ['attempt', 'start', 'stop']) {
        srf.on(`cdr:${event}`, (source: string, _time: string, detail: unknown) =>
          cdrs.push(`${event}:${source}${typeof detail === 'string' ? `:${detail}` : ''}`),
        );
      }
    });
    assertAllCallsSucceeded(
      await runSipp({ scenario: 'uac', target: { host: '127.0.0.1', port: engine.sipPort }, pauseMs: 100 }),
      1,
    );
    await engine.waitForCounts((c) => c.dialogs === 0, 5000);
    expect(cdrs).toEqual(['attempt:network', 'start:application:uas', 'stop:network:normal-release']);
  });

  it('OPTIONS goes to the app routed for it', async () => {
    let options = 0;
    await app((srf) =>
      srf.options((_req, res) => {
        options++;
        res.send(200);
      }),
    );
    await uac('uac-options', 3);
    expect(options).toBe(3);
  });

  it('an OPTIONS the app sends reaches sipp and its 200 comes back to the app', async () => {
    const srf = await app();
    const far = await startSippServer({ scenario: 'uas-options', calls: 1 });
    const status = await new Promise<number>((resolve, reject) => {
      srf.request(`sip:ping@${far.address}`, { method: 'OPTIONS' }, (err, req) => {
        if (err) return reject(err);
        req.on('response', (res: { status: number }) => resolve(res.status));
      });
    });
    expect(status).toBe(200);
    assertAllCallsSucceeded(await far.exited, 1);
  });

  it('UDP calls complete under 10% packet loss (retransmissions on both sides)', async () => {
    const stats = new EventEmitter() as EventEmitter & { answered?: number };
    await app(uasApp(stats));
    const result = await runSipp({
      scenario: 'uac',
      target: { host: '127.0.0.1', port: engine.sipPort },
      calls: 30,
      rate: 15,
      pauseMs: 100,
      lossPercent: 10,
      hardTimeoutMs: 120_000,
    });
    assertAllCallsSucceeded(result, 30);
    expect(stats.answered).toBeGreaterThanOrEqual(30);
  }, 150_000);
});
