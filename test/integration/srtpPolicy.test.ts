import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, callWhen, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, startSippServer } from '../support/sipp.js';
import { KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * A trunk that requires SDES-SRTP, called out through: sipp answers our RTP/SAVP offer with plain
 * RTP/AVP (it has no SRTP). The answer cannot be used, so the call fails with media_error, the
 * callee gets a BYE (sipp's scenario ends only on one), and nothing stays leased.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
let sippPort: number;

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  sippPort = await freeUdpPort();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [
          {
            name: 'srtp-only',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: sippPort, transport: 'udp' },
            media: { encryption: 'sdes', policy: 'required' },
          },
        ],
        apps: [{ appId: TEST_APP_ID, outboundTrunk: 'srtp-only' }],
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true);
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

describe('an outbound answer without the keying the trunk requires', () => {
  it('fails the call with media_error and hangs the callee up', async () => {
    const sipp = await startSippServer({
      scenario: 'uas-answer-pcap',
      localPort: sippPort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    try {
      const placed = await placeCall(gw, { from: '+15550100', to: '+442071838750' }, KEYS.app);
      expect(placed.status).toBe(201);
      const failed = await callWhen(gw, placed.json.id, (call) => call.status === 'failed');
      expect(failed).toMatchObject({ endReason: 'media_error' });
      // sipp's callee ends its scenario only once the BYE came.
      assertAllCallsSucceeded(await sipp.exited, 1);
      await until(async () => {
        const statuses = (await gw.gateway.media?.workerStatuses()) ?? [];
        return statuses.every((status) => status.portsInUse === 0 && status.sessions === 0);
      });
    } finally {
      await sipp.stop({ graceful: false });
    }
  });
});
