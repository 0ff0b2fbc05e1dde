import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  callGatewayConfig,
  callsOf,
  callWhen,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, formatSippResult, runSipp, type SippRunOptions } from '../support/sipp.js';

/**
 * Session timers (RFC 4028) on an inbound PSTN call, through the embedded SIP server with sipp as
 * the caller: an interval below our Min-SE is refused 422 before any call exists; a caller that
 * refreshes by re-INVITE keeps its call past the interval; one that does not is sent BYE within
 * it and the call ends `session_expired`; a caller without timer support is refreshed by us at
 * half the interval (a re-INVITE, or an UPDATE without SDP when its INVITE allowed UPDATE). The
 * gateway's Min-SE is lowered to 4 s for the test (a
 * test-only option; configuration cannot go under the RFC's 90 s).
 */
const TEST_MIN_SE = 4;
let engine: SipEngineProcess;
let rig: LiveKitRig;
let running: RunningGateway;

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(callGatewayConfig(engine, rig), {
    mediaWorkerEntry: loopbackWorkerEntry(),
    sessionTimerMinSeSeconds: TEST_MIN_SE,
  });
  await until(async () => (await api(running, '/readyz')).ready === true);
});
afterAll(async () => {
  await running?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

function caller(scenario: string, more: Partial<SippRunOptions> = {}) {
  return runSipp({
    scenario,
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    calls: 1,
    hardTimeoutMs: 60_000,
    ...more,
  });
}

/** Accepts the one ringing call (sipp's log in the error when none rings). */
async function accept(sipp: ReturnType<typeof caller>): Promise<string> {
  const ringing = await theRingingCall(running).catch(async (error: unknown) => {
    throw new Error(`${String(error)}\n${formatSippResult(await sipp)}`);
  });
  const answered = await api(running, `/v1/calls/${ringing.id}/actions`, {
    method: 'POST',
    body: '{"action":"accept"}',
  });
  expect(answered).toMatchObject({ status: 'in_progress' });
  return ringing.id;
}

describe('session timers (RFC 4028) on inbound PSTN calls', () => {
  it('refuses a Session-Expires below our Min-SE with 422 and Min-SE, before any call exists', async () => {
    const before = (await callsOf(running)).length;
    const result = await caller('uac-session-timer-422', { keys: { expires: 2, minse: TEST_MIN_SE } });
    assertAllCallsSucceeded(result, 1);
    expect(await callsOf(running, 'ringing')).toEqual([]);
    expect((await callsOf(running)).length).toBe(before);
  });

  it('keeps a call whose caller refreshes by re-INVITE at half the interval past the interval', async () => {
    const expires = 10;
    // Two pauses of half the interval each: the refresh at 5 s, the caller's BYE at 10 s; without
    // the refresh the session would have expired at 6.7 s.
    const sipp = caller('uac-session-refresh', { keys: { expires }, pauseMs: (expires * 1000) / 2 });
    const id = await accept(sipp);
    assertAllCallsSucceeded(await sipp, 1);
    const done = await callWhen(running, id, (call) => call.endedAt !== null);
    expect(done).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });
    expect(Date.parse(done.endedAt) - Date.parse(done.answeredAt)).toBeGreaterThanOrEqual(
      expires * 1000 - 500,
    );
  });

  it('sends BYE within the interval to a caller that never refreshes: the call ends session_expired', async () => {
    const expires = 6;
    const sipp = caller('uac-session-no-refresh', { keys: { expires }, recvTimeoutMs: 30_000 });
    const id = await accept(sipp);
    assertAllCallsSucceeded(await sipp, 1);
    const done = await callWhen(running, id, (call) => call.endedAt !== null);
    expect(done).toMatchObject({ status: 'completed', endReason: 'session_expired' });
    // RFC 4028 10: BYE at the interval less a third of it (4 s here), within the interval.
    expect(Date.parse(done.endedAt) - Date.parse(done.answeredAt)).toBeLessThan(expires * 1000);
  });

  it('refreshes by re-INVITE at half the interval for a caller without timer support', async () => {
    const expires = 6;
    const sipp = caller('uac-session-refreshed-by-far-end', { keys: { expires }, recvTimeoutMs: 30_000 });
    const id = await accept(sipp);
    const result = await sipp;
    assertAllCallsSucceeded(result, 1);
    // RFC 4028 9: no Require: timer toward a caller that does not support timers.
    expect(result.messageLog).not.toMatch(/^Require:.*timer/im);
    const done = await callWhen(running, id, (call) => call.endedAt !== null);
    expect(done).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });
    // The refresh came at half the interval (3 s), the caller's BYE right after it.
    expect(Date.parse(done.endedAt) - Date.parse(done.answeredAt)).toBeGreaterThanOrEqual(2_500);
  });

  it('refreshes by UPDATE without SDP for a caller without timer support whose INVITE allowed UPDATE', async () => {
    const expires = 6;
    const sipp = caller('uac-session-refreshed-by-update', { keys: { expires }, recvTimeoutMs: 30_000 });
    const id = await accept(sipp);
    const result = await sipp;
    assertAllCallsSucceeded(result, 1);
    expect(result.actionLog).toContain(`refresh: UPDATE Session-Expires ${expires}`);
    const done = await callWhen(running, id, (call) => call.endedAt !== null);
    expect(done).toMatchObject({ status: 'completed', endReason: 'caller_hangup' });
    expect(Date.parse(done.endedAt) - Date.parse(done.answeredAt)).toBeGreaterThanOrEqual(2_500);
  });
});
