import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { api, callGatewayConfig, ROUTED_NUMBER, theRingingCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { type Peer, statusOf, streamPeer } from './sipRawPeer.js';

/**
 * Requests that reach the gateway in the same instant as the ACK of its 200 OK. A TCP peer
 * writes ACK, a hold re-INVITE and a DTMF INFO in one segment, so the SIP server reads them in
 * one chunk and hands them to the gateway back to back. The gateway's leg listens from the
 * moment its dialog exists: the re-INVITE is answered by the media session (recvonly to a
 * sendonly offer, not srf's stale sendrecv SDP) and the INFO digit reaches the control plane.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let plane: ControlPlane;
let running: RunningGateway;

beforeAll(async () => {
  // One after the other: each picks free ports, and two pickers at once can be handed the same one.
  plane = await ControlPlane.start();
  engine = await startSipEngine();
  rig = await startLiveKit();
  running = await startInProcessGateway(
    callGatewayConfig(engine, rig, { control: { url: plane.url, token: CONTROL_TOKEN } }),
  );
  await until(async () => (await api(running, '/readyz')).ready === true);
});
afterAll(async () => {
  await running?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop(), plane?.stop()]);
});

const header = (message: string, name: string): string =>
  new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(message)?.[1]?.trim() ?? '';

function sdp(version: number, direction: 'sendrecv' | 'sendonly'): string {
  return [
    'v=0',
    `o=- 7 ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    'm=audio 7010 RTP/AVP 0 101',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    `a=${direction}`,
    '',
  ].join('\r\n');
}

/** One request of the caller's dialog, as its UAC writes it. */
function inDialog(
  peer: Peer,
  o: {
    method: string;
    uri: string;
    cseq: number;
    callId: string;
    toTag?: string;
    body?: string;
    type?: string;
  },
): string {
  const body = o.body ?? '';
  return [
    `${o.method} ${o.uri} SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:${peer.localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:+15550100@127.0.0.1:${peer.localPort}>;tag=racer`,
    `To: <sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${o.method}`,
    `Contact: <sip:racer@127.0.0.1:${peer.localPort};transport=tcp>`,
    ...(o.type ? [`Content-Type: ${o.type}`] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** The next message that is a final response to `method`. */
async function finalTo(peer: Peer, method: string): Promise<string> {
  for (;;) {
    const message = await peer.next(10_000);
    const status = statusOf(message);
    if (status >= 200 && header(message, 'CSeq').endsWith(method)) return message;
  }
}

describe('in-dialog requests read with the ACK', () => {
  it('a re-INVITE and an INFO in the ACK’s TCP segment are answered by the call, not lost', async () => {
    const peer = await streamPeer(engine.sipPort, false);
    const callId = `race-${randomBytes(6).toString('hex')}`;
    const uri = `sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort};transport=tcp`;
    peer.send(
      inDialog(peer, {
        method: 'INVITE',
        uri,
        cseq: 1,
        callId,
        body: sdp(1, 'sendrecv'),
        type: 'application/sdp',
      }),
    );
    const ringing = await theRingingCall(running);
    const accepted = api(running, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'accept' }),
    });
    const ok = await finalTo(peer, 'INVITE');
    expect(statusOf(ok)).toBe(200);
    const toTag = /;tag=([^;>\s]+)/.exec(header(ok, 'To'))?.[1] ?? '';
    const target = /<([^>]+)>/.exec(header(ok, 'Contact'))?.[1] ?? uri;

    peer.send(
      inDialog(peer, { method: 'ACK', uri: target, cseq: 1, callId, toTag }) +
        inDialog(peer, {
          method: 'INVITE',
          uri: target,
          cseq: 2,
          callId,
          toTag,
          body: sdp(2, 'sendonly'),
          type: 'application/sdp',
        }) +
        inDialog(peer, {
          method: 'INFO',
          uri: target,
          cseq: 3,
          callId,
          toTag,
          body: 'Signal=5\r\nDuration=160\r\n',
          type: 'application/dtmf-relay',
        }),
    );
    await accepted;
    const answers = new Map<string, string>();
    while (answers.size < 2) {
      const message = await peer.next(10_000);
      const method = header(message, 'CSeq').split(' ')[1] ?? '';
      if (statusOf(message) >= 200) answers.set(method, message);
    }
    const reinvite = answers.get('INVITE') ?? '';
    expect(statusOf(reinvite)).toBe(200);
    // The media session's answer to hold: it receives only. srf's own answer would repeat sendrecv.
    // (How often the old promise-form answer lost this depends on scheduling; the leg's own
    // buffering is tested deterministically in test/unit/signalling/sipDialogLeg.test.ts.)
    expect(reinvite).toMatch(/a=recvonly/);
    expect(statusOf(answers.get('INFO') ?? '')).toBe(200);
    await plane.waitFor('the INFO digit as calls.dtmf', () =>
      plane
        .distinctEvents()
        .some(
          (e) =>
            e.event === 'calls.dtmf' &&
            e.data.call.id === ringing.id &&
            e.data.digit === '5' &&
            e.data.source === 'sip_info',
        ),
    );

    peer.send(inDialog(peer, { method: 'ACK', uri: target, cseq: 2, callId, toTag }));
    peer.send(inDialog(peer, { method: 'BYE', uri: target, cseq: 4, callId, toTag }));
    expect(statusOf(await finalTo(peer, 'BYE'))).toBe(200);
    await until(async () => (await api(running, `/v1/calls/${ringing.id}`)).status === 'completed');
    expect((await api(running, `/v1/calls/${ringing.id}`)).endReason).toBe('caller_hangup');
    peer.close();
  });
});
