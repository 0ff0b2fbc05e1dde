import { createSocket } from 'node:dgram';
import { dispose, type Room, RoomEvent } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayMessageSchema } from '../../src/control/events/eventMessages.js';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { api, callGatewayConfig, ROUTED_NUMBER, theRingingCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { joinRoomWithToken, nextAudioTrack } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';

/**
 * A caller's DTMF through the whole gateway: sipp plays the RFC 4733 captures of every digit and
 * then sends two SIP INFO digits in a call accepted by API; a participant in the call's room
 * receives each as LiveKit SIP DTMF, and the control plane gets each as a calls.dtmf event.
 */
const PCAP_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];
const INFO_DIGITS = ['5', '9'];
/** sipp's Call-ID for its one call (-cid_str), so the test can address the call's go-ahead. */
const SIPP_CALL_ID = `dtmf-e2e-${process.pid}`;

let engine: SipEngineProcess;
let rig: LiveKitRig;
let plane: ControlPlane;
let running: RunningGateway;
let agent: Room | undefined;

beforeAll(async () => {
  // One after the other: each picks free ports, and two pickers at once can be handed the same one.
  plane = await ControlPlane.start();
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(
    callGatewayConfig(engine, rig, { control: { url: plane.url, token: CONTROL_TOKEN } }),
    { mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY) },
  );
  await until(async () => (await api(running, '/readyz')).ready === true);
});
afterAll(async () => {
  await agent?.disconnect();
  await running?.stop();
  await dispose();
  await Promise.all([engine?.stop(), rig?.server.stop(), plane?.stop()]);
});

/** The scenario's go-ahead: a NOTIFY with its call's Call-ID, straight to sipp's SIP port. */
async function goAhead(sippPort: number): Promise<void> {
  const socket = createSocket('udp4');
  const message = [
    `NOTIFY sip:sipp@127.0.0.1:${sippPort} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-dtmf-go',
    'From: <sip:test@127.0.0.1>;tag=go',
    'To: <sip:sipp@127.0.0.1>',
    `Call-ID: ${SIPP_CALL_ID}`,
    'CSeq: 1 NOTIFY',
    'Event: go',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  await new Promise<void>((resolve, reject) =>
    socket.send(message, sippPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
  socket.close();
}

describe('DTMF from a phone call', () => {
  it('reaches the room as SIP DTMF and the control plane as calls.dtmf, RFC 4733 and SIP INFO alike', async () => {
    const sippPort = await freeUdpPort();
    const sipp = runSipp({
      scenario: 'uac-dtmf',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      localPort: sippPort,
      calls: 1,
      extraArgs: ['-cid_str', SIPP_CALL_ID],
      hardTimeoutMs: 60_000,
    });
    const ringing = await theRingingCall(running);
    const answered = await api(running, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(answered.status).toBe('in_progress');
    const grant = await api(running, `/v1/calls/${ringing.id}/tokens`, {
      method: 'POST',
      body: '{"identity":"agent"}',
    });
    agent = await joinRoomWithToken(grant.url, grant.token);
    const identity = `sip_${ringing.id}`;
    const received: string[] = [];
    agent.on(RoomEvent.DtmfReceived, (_code, digit, from) => {
      if (from.identity === identity) received.push(digit);
    });
    // LiveKit sends data to a participant over its subscriber connection, which exists once it
    // subscribes to something: the call's audio, as an agent would.
    await nextAudioTrack(agent, identity);
    await goAhead(sippPort);

    assertAllCallsSucceeded(await sipp, 1);
    const expected = [...PCAP_DIGITS, ...INFO_DIGITS];
    await until(async () => received.length >= expected.length, 10_000).catch(() => undefined);
    expect(received).toEqual(expected);

    const dtmfEvents = () =>
      plane.distinctEvents().filter((e) => e.event === 'calls.dtmf' && e.data.call.id === ringing.id);
    await plane.waitFor(`${expected.length} calls.dtmf events`, () => dtmfEvents().length >= expected.length);
    const events = dtmfEvents();
    expect(events.map((e) => [e.data.digit, e.data.source])).toEqual([
      ...PCAP_DIGITS.map((digit) => [digit, 'rfc4733']),
      ...INFO_DIGITS.map((digit) => [digit, 'sip_info']),
    ]);
    for (const event of events) {
      expect(gatewayMessageSchema.safeParse(event).success).toBe(true);
      expect(event.data.call).toMatchObject({ id: ringing.id, status: 'in_progress' });
    }
    // In the call's own order: after its answer, before its end.
    await plane.waitFor('the call to complete', () =>
      plane.distinctEvents().some((e) => e.event === 'calls.completed' && e.data.call.id === ringing.id),
    );
    const order = plane
      .distinctEvents()
      .filter((e) => e.data.call.id === ringing.id)
      .map((e) => e.event);
    expect(order.indexOf('calls.answered')).toBeLessThan(order.indexOf('calls.dtmf'));
    expect(order.lastIndexOf('calls.dtmf')).toBeLessThan(order.indexOf('calls.completed'));
  });
});
