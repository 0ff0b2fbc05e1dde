import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { api, callGatewayConfig, callWhen, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import {
  assertAllCallsSucceeded,
  formatSippResult,
  type SippResult,
  type SippServer,
  startSippServer,
} from '../support/sipp.js';
import { TEST_APP_ID } from '../support/testKeys.js';

/**
 * Session timers (RFC 4028) on outbound PSTN calls (POST /v1/calls), through the embedded SIP
 * server with sipp playing the trunk's far end: our INVITE offers timers; a callee that makes us
 * the refresher gets our refreshes at half the interval (UPDATE when its 200 allowed UPDATE,
 * re-INVITE when not) and the call stays up; a callee that is the refresher and never refreshes
 * gets our BYE within the interval (completed, session_expired); a 422 with a larger Min-SE is
 * answered by a second INVITE with that interval, and the caller never sees the 422.
 *
 * Short intervals: the callee grants them (a 200 may grant less than we asked); the gateway's
 * Min-SE is lowered to 4 s by the test-only option (configuration cannot go under 90 s), and its
 * configured interval is 900 s, below the 422 scenario's Min-SE of 1800 s.
 */
const TEST_MIN_SE = 4;
const OFFERED = 900;
const CALLER = '+15550100';
const CALLEE = '+442071838750';

let engine: SipEngineProcess;
let rig: LiveKitRig;
let plane: ControlPlane;
let gw: RunningGateway;
let farPort: number;
let far: SippServer | undefined;

beforeAll(async () => {
  // One after the other: they pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  plane = await ControlPlane.start();
  farPort = await freeUdpPort();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
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
        sessionTimers: { enabled: true, expiresSeconds: OFFERED, minSeSeconds: 90 },
      },
      control: { url: plane.url, token: CONTROL_TOKEN },
    }),
    { mediaWorkerEntry: loopbackWorkerEntry(), sessionTimerMinSeSeconds: TEST_MIN_SE },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true);
  await plane.waitForConnection(1);
});
afterEach(async () => {
  await far?.stop({ graceful: false });
  far = undefined;
});
afterAll(async () => {
  await gw?.stop();
  await plane?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

/** Starts `scenario` as the trunk's far end for one call. */
async function trunk(scenario: string, keys: Record<string, string | number>, recvTimeoutMs = 30_000) {
  far = await startSippServer({
    scenario,
    localPort: farPort,
    transport: 'u1',
    calls: 1,
    keys,
    recvTimeoutMs,
    hardTimeoutMs: 60_000,
  });
  return far;
}

/** Places the call; its id. */
async function placed(): Promise<string> {
  const { status, json } = await placeCall(gw, { from: CALLER, to: CALLEE });
  expect(status, JSON.stringify(json)).toBe(201);
  return json.id;
}

/** sipp's result, its log in the failure when a scenario step failed. */
async function farEnd(sipp: SippServer): Promise<SippResult> {
  const result = await sipp.exited;
  try {
    assertAllCallsSucceeded(result, 1);
  } catch (error) {
    throw new Error(`${String(error)}\n${formatSippResult(result)}`);
  }
  return result;
}

const ended = (id: string) => callWhen(gw, id, (call) => call.endedAt !== null);
const talkedMs = (call: { answeredAt: string; endedAt: string }) =>
  Date.parse(call.endedAt) - Date.parse(call.answeredAt);

describe('session timers (RFC 4028) on outbound PSTN calls', () => {
  it.each([
    ['UPDATE', 'uas-session-refresh-update'],
    ['re-INVITE', 'uas-session-refresh-reinvite'],
  ])(
    'refreshes by %s at half the interval where the callee makes us the refresher',
    async (_how, scenario) => {
      const expires = 4;
      const sipp = await trunk(scenario, { expires });
      const id = await placed();
      const result = await farEnd(sipp);
      // The offer: our configured interval and the (test's) Min-SE.
      expect(result.actionLog).toContain(`offered: Session-Expires ${OFFERED} Min-SE ${TEST_MIN_SE}`);
      expect(result.actionLog).toContain(`refresh 2: ${scenario.endsWith('update') ? 'UPDATE' : 'INVITE'}`);
      const done = await ended(id);
      // Two refreshes (at 2 s and 4 s), then the callee's BYE: the call outlived the interval.
      expect(done).toMatchObject({ status: 'completed', endReason: 'callee_hangup' });
      expect(talkedMs(done)).toBeGreaterThanOrEqual(expires * 1000 - 500);
      expect(await plane.callEvents(id)).toEqual([
        'calls.initiated',
        'calls.ringing',
        'calls.answered',
        'calls.completed',
      ]);
    },
  );

  it('sends BYE within the interval to a callee that is the refresher and never refreshes: session_expired', async () => {
    const expires = 6;
    const sipp = await trunk('uas-session-no-refresh', { expires });
    const id = await placed();
    await farEnd(sipp);
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'completed', endReason: 'session_expired' });
    // RFC 4028 10: BYE at the interval less a third of it (4 s here), within the interval.
    expect(talkedMs(done)).toBeGreaterThanOrEqual(3_500);
    expect(talkedMs(done)).toBeLessThan(expires * 1000);
    expect(await plane.callEvents(id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
  });

  it('answers a 422 with Min-SE by a second INVITE at that interval; the call is answered', async () => {
    const minse = 1800;
    const sipp = await trunk('uas-session-timer-422', { minse });
    const id = await placed();
    const result = await farEnd(sipp);
    expect(result.actionLog).toContain(`first INVITE: Session-Expires ${OFFERED} CSeq 1`);
    expect(result.actionLog).toContain(`second INVITE: Session-Expires ${minse} Min-SE ${minse} CSeq 2`);
    const done = await ended(id);
    expect(done).toMatchObject({ status: 'completed', endReason: 'callee_hangup', sipStatus: null });
    expect(done.answeredAt).not.toBeNull();
    // The 422 stayed inside the dial: no failure event, one answer.
    expect(await plane.callEvents(id)).toEqual([
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
  });
});
