import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import {
  api,
  callGatewayConfig,
  callWhen,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp, type SippResult, startSippServer } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * Call transfer by REFER over real sockets: sipp callers through the embedded SIP server as the
 * transferee (our REFER: the transfer action) and as the transferor (a PBX's REFER to us), a sipp
 * callee as the transfer target, real media workers and a real livekit-server for the room.
 */
const TARGET = '+15550123';
let engine: SipEngineProcess;
let rig: LiveKitRig;
/** Where the app's outbound trunk sends INVITEs (the transfer target, a sipp callee). */
let calleePort: number;

beforeAll(async () => {
  // One after the other: both pick free ports, and two pickers at once can be handed the same one.
  engine = await startSipEngine();
  rig = await startLiveKit();
  calleePort = await freeUdpPort();
});
afterAll(async () => {
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

async function gatewayWith(allowTransfer: boolean): Promise<RunningGateway> {
  const gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [
          {
            name: 'local',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: calleePort, transport: 'udp' },
            allowTransfer,
          },
        ],
        apps: [{ appId: TEST_APP_ID, outboundTrunk: 'local' }],
      },
    }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true, 60_000);
  return gw;
}

async function eventsOf(gw: RunningGateway, id: string, name?: string) {
  return (await gw.gateway.events.outbox.unackedAfter(0, 100_000)).filter(
    (event) => event.callId === id && (name === undefined || event.event === name),
  );
}

/** The `transfer` field of the call's first event of that name. */
async function transferOf(gw: RunningGateway, id: string, name: string): Promise<unknown> {
  const data = (await eventsOf(gw, id, name))[0]?.data as { transfer?: unknown } | undefined;
  return data?.transfer;
}

function action(gw: RunningGateway, id: string, body: unknown): Promise<Response> {
  return fetch(`${gw.url}/v1/calls/${id}/actions`, {
    method: 'POST',
    headers: bearer(KEYS.admin),
    body: JSON.stringify(body),
  });
}

/** A sipp caller running `scenario`, its call ringing at the gateway, then accepted. */
async function answeredCall(
  gw: RunningGateway,
  scenario: string,
  keys: Record<string, string>,
  pauseMs?: number,
): Promise<{ id: string; sipp: Promise<SippResult> }> {
  const sipp = runSipp({
    scenario,
    target: { host: '127.0.0.1', port: engine.sipPort },
    transport: 'u1',
    service: ROUTED_NUMBER,
    keys,
    calls: 1,
    ...(pauseMs === undefined ? {} : { pauseMs }),
    hardTimeoutMs: 60_000,
  });
  const ringing = await theRingingCall(gw);
  const accepted = await action(gw, ringing.id, { action: 'accept' });
  expect(accepted.status).toBe(200);
  return { id: ringing.id, sipp };
}

async function hangUp(gw: RunningGateway, id: string): Promise<void> {
  const response = await fetch(`${gw.url}/v1/calls/${id}`, {
    method: 'PATCH',
    headers: bearer(KEYS.admin),
    body: '{"status":"completed"}',
  });
  expect(response.status).toBe(200);
}

describe('transfer by REFER, on a trunk without allowTransfer', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gatewayWith(false);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('the transfer action REFERs the caller; NOTIFY 100 then 200 ends the call as transferred', async () => {
    const sipp = runSipp({
      scenario: 'uac-transferee',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { referuser: TARGET, final: '200 OK' },
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(gw);
    // Not answered yet: nothing to transfer.
    expect((await action(gw, ringing.id, { action: 'transfer', to: TARGET })).status).toBe(409);
    expect((await action(gw, ringing.id, { action: 'accept' })).status).toBe(200);
    const bad = await action(gw, ringing.id, { action: 'transfer', to: 'not a number' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('"field":"to"');

    const response = await action(gw, ringing.id, { action: 'transfer', to: TARGET });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id: ringing.id, status: 'in_progress' });
    // sipp checked the REFER (Refer-To user, Referred-By), answered 202, sent both NOTIFYs (each
    // answered 200) and got our BYE.
    assertAllCallsSucceeded(await sipp, 1);
    const ended = await callWhen(gw, ringing.id, (call) => call.endedAt !== null);
    expect(ended).toMatchObject({ status: 'completed', endReason: 'transferred' });

    const names = (await eventsOf(gw, ringing.id)).map((event) => event.event);
    expect(names.filter((name) => name.startsWith('calls.transfer.'))).toEqual([
      'calls.transfer.requested',
      'calls.transfer.completed',
    ]);
    expect(names.indexOf('calls.transfer.completed')).toBeLessThan(names.indexOf('calls.completed'));
    expect(await transferOf(gw, ringing.id, 'calls.transfer.requested')).toEqual({
      to: TARGET,
      referTo: `sip:${TARGET}@127.0.0.1:${calleePort};transport=udp`,
      by: 'api',
    });
    expect(await transferOf(gw, ringing.id, 'calls.transfer.completed')).toMatchObject({ status: 200 });
  });

  it('a transfer verb REFERs the call from its flow; on success the call ends as transferred', async () => {
    const sipp = runSipp({
      scenario: 'uac-transferee',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { referuser: TARGET, final: '200 OK' },
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(gw);
    const response = await fetch(`${gw.url}/v1/calls/${ringing.id}`, {
      method: 'PATCH',
      headers: bearer(KEYS.admin),
      body: JSON.stringify({
        callFlow: [{ command: 'transfer', to: TARGET }, { command: 'hangup' }],
      }),
    });
    expect(response.status).toBe(200);
    assertAllCallsSucceeded(await sipp, 1);
    // The verb answered the call, the REFER succeeded, and the hangup after it never ran.
    expect(await callWhen(gw, ringing.id, (call) => call.endedAt !== null)).toMatchObject({
      status: 'completed',
      endReason: 'transferred',
    });
    expect(await transferOf(gw, ringing.id, 'calls.transfer.completed')).toMatchObject({
      to: TARGET,
      by: 'flow',
      status: 200,
    });
  });

  it('a failure sipfrag (486) keeps the call up and reports calls.transfer.failed with the code', async () => {
    const { id, sipp } = await answeredCall(gw, 'uac-transferee', {
      referuser: TARGET,
      final: '486 Busy Here',
    });
    expect((await action(gw, id, { action: 'transfer', to: TARGET })).status).toBe(202);
    await until(async () => (await eventsOf(gw, id, 'calls.transfer.failed')).length === 1);
    expect(await transferOf(gw, id, 'calls.transfer.failed')).toMatchObject({
      to: TARGET,
      status: 486,
      stage: 'notify',
    });
    expect(await api(gw, `/v1/calls/${id}`)).toMatchObject({ status: 'in_progress', endReason: null });
    await hangUp(gw, id);
    assertAllCallsSucceeded(await sipp, 1);
    expect(await callWhen(gw, id, (call) => call.endedAt !== null)).toMatchObject({
      endReason: 'api_hangup',
    });
  });

  it('a REFER refused (603) keeps the call up and reports calls.transfer.failed with the code', async () => {
    const { id, sipp } = await answeredCall(gw, 'uac-transferee-refuse', {});
    const sipUri = 'sip:alice@pbx.example';
    expect((await action(gw, id, { action: 'transfer', to: sipUri })).status).toBe(202);
    await until(async () => (await eventsOf(gw, id, 'calls.transfer.failed')).length === 1);
    expect(await transferOf(gw, id, 'calls.transfer.failed')).toMatchObject({
      to: sipUri,
      referTo: sipUri,
      status: 603,
      stage: 'refer',
    });
    expect(await api(gw, `/v1/calls/${id}`)).toMatchObject({ status: 'in_progress' });
    await hangUp(gw, id);
    assertAllCallsSucceeded(await sipp, 1);
  });

  it('a REFER from the far end is refused 403 and the call goes on', async () => {
    const { id, sipp } = await answeredCall(gw, 'uac-transferor-refused', { referuser: TARGET }, 0);
    await until(async () => (await eventsOf(gw, id, 'calls.transfer.failed')).length === 1);
    expect(await transferOf(gw, id, 'calls.transfer.failed')).toMatchObject({ by: 'far_end', status: 403 });
    expect(await api(gw, `/v1/calls/${id}`)).toMatchObject({ status: 'in_progress' });
    await hangUp(gw, id);
    // sipp got the 403, then our BYE.
    assertAllCallsSucceeded(await sipp, 1);
  });
});

describe('transfer by REFER, on a trunk with allowTransfer', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gatewayWith(true);
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it("a PBX's REFER dials the target into the room, NOTIFYs 200 and BYEs the old leg; the call goes on", async () => {
    const callee = await startSippServer({
      scenario: 'uas-answer-pcap',
      localPort: calleePort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const { id, sipp } = await answeredCall(gw, 'uac-transferor', { referuser: TARGET }, 0);
    // sipp's REFER got 202, NOTIFY 100 and NOTIFY 200 (terminated), then its leg our BYE.
    assertAllCallsSucceeded(await sipp, 1);
    const names = (await eventsOf(gw, id))
      .map((event) => event.event)
      .filter((name) => name.startsWith('calls.transfer.'));
    expect(names).toEqual(['calls.transfer.requested', 'calls.transfer.completed']);
    expect(await transferOf(gw, id, 'calls.transfer.requested')).toMatchObject({ to: TARGET, by: 'far_end' });
    // The call lives on, on the target's leg, which is in the call's room.
    const live = await callWhen(gw, id, (call) =>
      call.participants.some((p: { identity: string }) => p.identity === `sip_${id}_transfer_1`),
    );
    expect(live).toMatchObject({ status: 'in_progress', endReason: null });
    // Hanging up now ends the target's leg (the sipp callee gets the BYE).
    await hangUp(gw, id);
    assertAllCallsSucceeded(await callee.exited, 1);
    expect(await callWhen(gw, id, (call) => call.endedAt !== null)).toMatchObject({
      status: 'completed',
      endReason: 'api_hangup',
    });
  });

  it("a PBX's REFER to a busy target NOTIFYs the 486 and the call stays on the old leg", async () => {
    const callee = await startSippServer({
      scenario: 'uas-final-486',
      localPort: calleePort,
      transport: 'u1',
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const { id, sipp } = await answeredCall(gw, 'uac-transferor-target-busy', { referuser: TARGET }, 0);
    assertAllCallsSucceeded(await callee.exited, 1);
    await until(async () => (await eventsOf(gw, id, 'calls.transfer.failed')).length === 1);
    expect(await transferOf(gw, id, 'calls.transfer.failed')).toMatchObject({
      to: TARGET,
      by: 'far_end',
      status: 486,
    });
    expect(await api(gw, `/v1/calls/${id}`)).toMatchObject({ status: 'in_progress', endReason: null });
    // The old leg is still the call's: hanging up sends it the BYE sipp waits for.
    await hangUp(gw, id);
    assertAllCallsSucceeded(await sipp, 1);
  });
});
