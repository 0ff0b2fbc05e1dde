import { dispose } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import {
  api,
  callGatewayConfig,
  callWhen,
  placeCall,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, formatSippResult, runSipp, startSippServer } from '../support/sipp.js';
import { TEST_APP_ID } from '../support/testKeys.js';

/**
 * 100rel (RFC 3262) through the gateway and the embedded SIP server, with sipp at the far end: a
 * caller that requires it gets a reliable 180 and early-media 183 (sipp fails the call without
 * RSeq), PRACKs each and is answered; a carrier sending a reliable 183 to our outbound INVITE is
 * PRACKed with the matching RAck (sipp fails the call otherwise) and answers.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;
/** Where sipp plays the carrier for outbound calls. */
let farPort: number;

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  farPort = await freeUdpPort();
  const config = callGatewayConfig(engine, rig, {
    sip: {
      trunks: [
        {
          name: 'carrier',
          kind: 'pstn',
          sourceAddresses: ['127.0.0.1/32'],
          outbound: { host: '127.0.0.1', port: farPort, transport: 'udp' },
        },
      ],
      apps: [{ appId: TEST_APP_ID, outboundTrunk: 'carrier' }],
    },
  });
  running = await startInProcessGateway(config, { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) });
  await until(async () => (await api(running, '/readyz')).ready === true);
});
afterAll(async () => {
  await running?.stop();
  await dispose();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

const action = (callId: string, body: string): Promise<any> =>
  api(running, `/v1/calls/${callId}/actions`, { method: 'POST', body });

describe('reliable provisional responses (Require: 100rel)', () => {
  it('sends 180 and 183 reliably to a caller requiring 100rel, and answers once both are PRACKed', async () => {
    const sipp = runSipp({
      scenario: 'uac-100rel',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(running).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${formatSippResult(await sipp)}`);
    });
    expect(await action(ringing.id, '{"action":"pre_accept"}')).toMatchObject({ status: 'ringing' });
    expect(await action(ringing.id, '{"action":"accept"}')).toMatchObject({ status: 'in_progress' });
    assertAllCallsSucceeded(await sipp, 1);
    await until(async () => (await api(running, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect(await api(running, `/v1/calls/${ringing.id}`)).toMatchObject({ endReason: 'caller_hangup' });
  });

  it('PRACKs a carrier’s reliable 183 on an outbound call, which is then answered and ends on its BYE', async () => {
    const far = await startSippServer({
      scenario: 'uas-100rel',
      localPort: farPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
      pauseMs: 1000,
    });
    try {
      const { status, json } = await placeCall(running, { from: '+15550100', to: '+442071838750' });
      expect(status, JSON.stringify(json)).toBe(201);
      assertAllCallsSucceeded(await far.exited, 1);
      const done = await callWhen(running, json.id, (call) => call.endedAt !== null);
      expect(done).toMatchObject({ status: 'completed', endReason: 'callee_hangup' });
    } finally {
      await far.stop({ graceful: false });
    }
  });
});
