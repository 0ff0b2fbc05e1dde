import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, callGatewayConfig, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { testCertificate } from '../support/testCertificate.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';
import { type Peer, statusOf, streamPeer } from './sipRawPeer.js';

/**
 * Which WhatsApp calls over SIP an app gets, by its two settings (whatsappCallingEnabled,
 * whatsappSipEnabled), in both directions; what a WhatsApp number refuses (plain TCP, plain RTP);
 * what a user-initiated call carries (fromChannel whatsapp, a BSUID caller, Meta's x-wa-meta-*
 * headers); and that Meta's SIP password is in no log line or API response. INVITEs are written
 * by hand over TLS (Meta's edge is not reachable from here; `metaSipEdge.ts` is its stand-in where
 * a whole call is needed).
 */
const BUSINESS = '+15550177';
const SECRET = `meta-sip-password-${randomBytes(6).toString('hex')}`;
const BSUID = 'US13491208655302741918';
const KEY = randomBytes(30).toString('base64');

let engine: SipEngineProcess;
let gw: RunningGateway;
const logLines: string[] = [];

beforeAll(async () => {
  const certificate = testCertificate('gw.test');
  engine = await startSipEngine({ tls: certificate });
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  gw = await startInProcessGateway(
    callGatewayConfig(engine, undefined, {
      sip: {
        trunks: [
          {
            name: 'meta',
            kind: 'whatsapp',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: 5999, transport: 'tls' },
          },
        ],
        whatsapp: {
          numbers: [
            {
              number: BUSINESS,
              appId: TEST_APP_ID,
              trunk: 'meta',
              sipHostname: 'gw.test',
              password: SECRET,
              keying: 'sdes',
            },
          ],
        },
      },
    }),
    { logger: pino({ level: 'debug' }, logStream) },
  );
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await engine?.stop();
});

async function settings(whatsappCallingEnabled: boolean, whatsappSipEnabled: boolean): Promise<void> {
  const response = await fetch(`${gw.url}/v1/organization/apps/${TEST_APP_ID}/calling`, {
    method: 'PUT',
    headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
    body: JSON.stringify({ whatsappCallingEnabled, whatsappSipEnabled }),
  });
  expect(response.status).toBe(200);
}

function offer(profile: 'RTP/SAVP' | 'RTP/AVP'): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio 40000 ${profile} 111 126`,
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 maxaveragebitrate=20000;maxplaybackrate=16000;useinbandfec=1',
    'a=rtpmap:126 telephone-event/8000',
    ...(profile === 'RTP/SAVP' ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`] : []),
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** An INVITE as Meta's edge sends it for a user-initiated call. */
function invite(peer: Peer, port: number, options: { profile?: 'RTP/SAVP' | 'RTP/AVP' } = {}): string {
  const body = offer(options.profile ?? 'RTP/SAVP');
  const transport = peer.transport.toLowerCase();
  return [
    `INVITE sip:${BUSINESS}@127.0.0.1:${port};transport=${transport} SIP/2.0`,
    `Via: SIP/2.0/${peer.transport} 127.0.0.1:${peer.localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    'Max-Forwards: 70',
    `From: <sip:${BSUID}@wa.meta.vc>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:${BUSINESS}@gw.test>`,
    `Call-ID: ${randomBytes(8).toString('hex')}@wa.meta.vc`,
    'CSeq: 1 INVITE',
    `Contact: <sip:edge@127.0.0.1:${peer.localPort};transport=${transport}>`,
    'x-wa-meta-wacid: wacid.HBgLMTU1NTAxMjM0NTYVAgARGBI',
    `x-wa-meta-user-id: ${BSUID}`,
    'x-wa-meta-user-name: Ada Lovelace',
    'x-wa-meta-user-country-code: US',
    'x-wa-meta-cta-payload: order-4711',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** The INVITE's final response (provisional ones skipped). */
async function finalResponse(peer: Peer): Promise<string> {
  for (;;) {
    const message = await peer.next(10_000);
    if (statusOf(message) >= 200) return message;
  }
}

async function inviteOverTls(options: { profile?: 'RTP/SAVP' | 'RTP/AVP' } = {}): Promise<string> {
  const peer = await streamPeer(engine.tlsPort ?? 0, true);
  try {
    peer.send(invite(peer, engine.tlsPort ?? 0, options));
    return await finalResponse(peer);
  } finally {
    peer.close();
  }
}

describe('user-initiated WhatsApp calls (Meta → us) by the app’s settings', () => {
  it.each([
    [false, false, /whatsappCallingEnabled/],
    [true, false, /whatsappSipEnabled/],
  ])('calling %s, SIP %s → 403 naming the setting', async (calling, sip, setting) => {
    await settings(calling, sip);
    const response = await inviteOverTls();
    expect(statusOf(response)).toBe(403);
    expect(response).toMatch(setting);
    expect((await api(gw, `/v1/calls?appId=${TEST_APP_ID}&status=ringing`)).data).toEqual([]);
  });

  it('both on → it rings, from a BSUID on whatsapp, with Meta’s headers in metadata.whatsapp', async () => {
    await settings(true, true);
    const peer = await streamPeer(engine.tlsPort ?? 0, true);
    try {
      peer.send(invite(peer, engine.tlsPort ?? 0));
      let ringing: any;
      await until(async () => {
        ringing = (await api(gw, `/v1/calls?appId=${TEST_APP_ID}&status=ringing`)).data[0];
        return ringing !== undefined;
      });
      expect(ringing).toMatchObject({
        fromChannel: 'whatsapp',
        fromAddress: BSUID,
        toAddress: BUSINESS,
        metadata: {
          trunk: 'meta',
          whatsapp: {
            wacid: 'wacid.HBgLMTU1NTAxMjM0NTYVAgARGBI',
            userId: BSUID,
            userName: 'Ada Lovelace',
            countryCode: 'US',
            ctaPayload: 'order-4711',
          },
        },
      });
      const rejected = await api(gw, `/v1/calls/${ringing.id}/actions`, {
        method: 'POST',
        body: '{"action":"reject"}',
      });
      expect(rejected.status).toBe('failed');
      expect(statusOf(await finalResponse(peer))).toBeGreaterThanOrEqual(400);
      // The BSUID caller's call is in the call log like any other.
      const log = await api(gw, `/v1/calls/${ringing.id}/log`);
      expect(log).toMatchObject({ from: BSUID, to: BUSINESS, fromChannel: 'whatsapp' });
    } finally {
      peer.close();
    }
  });

  it('an INVITE for the WhatsApp number over plain TCP is refused', async () => {
    await settings(true, true);
    const peer = await streamPeer(engine.sipPort, false);
    try {
      peer.send(invite(peer, engine.sipPort));
      const response = await finalResponse(peer);
      expect(statusOf(response)).toBe(403);
      expect(response).toMatch(/TLS/);
    } finally {
      peer.close();
    }
  });

  it('plain RTP to a number Meta keys by SDES is refused with 488 before it rings', async () => {
    await settings(true, true);
    const response = await inviteOverTls({ profile: 'RTP/AVP' });
    expect(statusOf(response)).toBe(488);
    expect((await api(gw, `/v1/calls?appId=${TEST_APP_ID}&status=ringing`)).data).toEqual([]);
  });
});

describe('business-initiated WhatsApp calls (us → Meta) by the app’s settings', () => {
  it.each([
    [false, false, /whatsappCallingEnabled/],
    [true, false, /whatsappSipEnabled/],
  ])('calling %s, SIP %s → 422 whatsapp_not_enabled naming the setting', async (calling, sip, setting) => {
    await settings(calling, sip);
    const placed = await placeCall(gw, { from: BUSINESS, to: '+447700900123', toChannel: 'whatsapp' });
    expect(placed.status).toBe(422);
    expect(placed.json.error.code).toBe('whatsapp_not_enabled');
    expect(placed.json.error.message).toMatch(setting);
  });

  it('both on, from a number that is not a business number → 422 no_outbound_trunk', async () => {
    await settings(true, true);
    const placed = await placeCall(gw, { from: '+15550999', to: '+447700900123', toChannel: 'whatsapp' });
    expect(placed.status).toBe(422);
    expect(placed.json.error.code).toBe('no_outbound_trunk');
  });
});

describe('Meta’s SIP password', () => {
  it('is in no log line and no API response', async () => {
    const calls = await fetch(`${gw.url}/v1/calls?appId=${TEST_APP_ID}&limit=100`, {
      headers: bearer(KEYS.app),
    });
    expect(await calls.text()).not.toContain(SECRET);
    const config = await fetch(`${gw.url}/v1/organization/apps/${TEST_APP_ID}/calling`, {
      headers: bearer(KEYS.admin),
    });
    expect(await config.text()).not.toContain(SECRET);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(SECRET);
    expect(engine.lines.join('\n')).not.toContain(SECRET);
  });
});
