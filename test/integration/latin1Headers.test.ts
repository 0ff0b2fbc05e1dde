import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, callGatewayConfig, callsOf, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { type Peer, request, SDP, statusOf, streamPeer, udpPeer } from './sipRawPeer.js';

/**
 * Carriers send caller names and subjects in ISO-8859-1 ("José" with a single 0xE9 byte), which is
 * not UTF-8; drachtio-server takes such calls, so the embedded SIP server must too: the INVITE
 * rings at the gateway like any other, over UDP and TCP.
 */
let engine: SipEngineProcess;
let gw: RunningGateway;
const peers: Peer[] = [];

beforeAll(async () => {
  engine = await startSipEngine();
  gw = await startInProcessGateway(callGatewayConfig(engine, undefined, { sip: { ringTimeoutSeconds: 2 } }));
  await until(async () => ((await api(gw, '/readyz')) as any).parts.sip.ok === true);
});
afterEach(() => {
  for (const peer of peers.splice(0)) peer.close();
});
afterAll(async () => {
  await gw?.stop();
  await engine?.stop();
});

/** The INVITE as bytes: every character below U+0100 is one octet, as a Latin-1 sender writes it. */
function latin1Invite(peer: Peer, callId: string): Buffer {
  const text = request(peer, engine, {
    method: 'INVITE',
    uri: `sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}`,
    callId,
    body: SDP,
    extra: ['Subject: caf\u00e9 cr\u00e8me', 'Content-Type: application/sdp'],
  }).replace(
    /^From: .*$/m,
    `From: "Jos\u00e9 Mar\u00eda" <sip:+15550100@127.0.0.1:${peer.localPort}>;tag=latin`,
  );
  const bytes = Buffer.from(text, 'latin1');
  expect(bytes.includes(Buffer.from([0xe9]))).toBe(true);
  expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toThrow();
  return bytes;
}

describe('an INVITE whose headers carry Latin-1 octets', () => {
  it.each([
    ['UDP', () => udpPeer(engine.sipPort)],
    ['TCP', () => streamPeer(engine.sipPort, false)],
  ])('rings at the gateway over %s, not 400', async (_transport, open) => {
    const peer = await open();
    peers.push(peer);
    const callId = randomBytes(8).toString('hex');
    peer.send(latin1Invite(peer, callId));
    const statuses: number[] = [];
    let ringing = '';
    while (!ringing) {
      const message = await peer.next(10_000);
      statuses.push(statusOf(message));
      if (statusOf(message) === 180) ringing = message;
      if (statusOf(message) >= 200) break;
    }
    expect(statuses).not.toContain(400);
    expect(ringing).not.toBe('');
    // The caller's name comes back as the characters it meant (now in UTF-8), its tag intact.
    expect(ringing).toMatch(/^From: "José María" <sip:\+15550100@127\.0\.0\.1:\d+>;tag=latin/m);
    const calls = await callsOf(gw, 'ringing');
    expect(calls.map((call) => call.fromAddress)).toContain('+15550100');
  });
});
