import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../../src/launcher/freePorts.js';
import { parseDigestHeader } from '../../src/signalling/digestHash.js';
import { api, callGatewayConfig, callWhen, placeCall, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * The gateway answering a trunk's SHA-256 digest challenge (srf's own digest client knows only
 * MD5), over real sockets: POST /v1/calls → the gateway's INVITE through the embedded SIP server to
 * a raw UDP UAS written here, standing in for a trunk that challenges like Meta's WhatsApp SIP
 * servers (407, realm wa.meta.vc, qop=auth, algorithm SHA-256; Meta itself cannot be reached). The
 * UAS checks the INVITE sent again (same Call-ID and From tag, CSeq + 1) and recomputes the
 * response with node:crypto before it answers 200 OK; a real livekit-server holds the call's room,
 * a loopback media worker its RTP port.
 */
const CALLER = '+15550100';
const CALLEE = '+442071838750';
const USERNAME = '+15550100';
const PASSWORD = 'meta-issued-sip-password';

/** One request or response as the UAS reads it: first line, headers by lower-case name (all values). */
interface SipMessage {
  first: string;
  headers: Map<string, string[]>;
  body: string;
}

function parse(text: string): SipMessage {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [first = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { first, headers, body };
}

const one = (m: SipMessage, name: string) => m.headers.get(name.toLowerCase())?.[0] ?? '';

interface Challenge {
  status: 401 | 407;
  /** One header line per entry, in this order. */
  headers: string[];
}

/** What the UAS saw of the INVITE that carried credentials, and whether the response was right. */
interface Answered {
  first: { callId: string; fromTag: string; cseq: number };
  second: { callId: string; fromTag: string; cseq: number; requestUri: string };
  header: string;
  fields: Record<string, string>;
  valid: boolean;
}

const H = (algorithm: string, text: string) =>
  createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');

/**
 * A trunk's UAS on UDP: challenges the first INVITE of a call, answers the INVITE with right
 * credentials 180 + 200 OK, anything else 403; BYE → 200. A retransmitted request gets the same
 * response again.
 */
class ChallengingTrunk {
  readonly answered: Answered[] = [];
  private readonly sent = new Map<string, string>();
  private readonly firsts = new Map<string, Answered['first']>();
  private nonces = new Map<string, string>();

  private constructor(
    private readonly socket: Socket,
    private readonly challenge: Challenge,
  ) {
    socket.on('message', (data, from) => this.onMessage(data.toString('utf8'), from));
  }

  static async start(port: number, challenge: Challenge): Promise<ChallengingTrunk> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    return new ChallengingTrunk(socket, challenge);
  }

  close(): void {
    this.socket.close();
  }

  private onMessage(text: string, from: RemoteInfo): void {
    const m = parse(text);
    if (m.first.startsWith('SIP/2.0')) return;
    const method = m.first.split(' ')[0];
    const key = `${method} ${/branch=([^;\s,]+)/.exec(one(m, 'via'))?.[1]}`;
    const again = this.sent.get(key);
    if (again) {
      this.send(again, from);
      return;
    }
    if (method === 'ACK') return;
    if (method === 'BYE') {
      this.respond(key, m, 200, 'OK', [], from);
      return;
    }
    if (method !== 'INVITE') return;
    const callId = one(m, 'call-id');
    const fromTag = /;tag=([^;\s]+)/.exec(one(m, 'from'))?.[1] ?? '';
    const cseq = Number.parseInt(one(m, 'cseq'), 10);
    const credentialsName = this.challenge.status === 407 ? 'proxy-authorization' : 'authorization';
    const credentials = one(m, credentialsName);
    if (!credentials) {
      this.firsts.set(callId, { callId, fromTag, cseq });
      const headers = this.challenge.headers.map((line) => {
        const nonce = randomBytes(8).toString('hex');
        this.nonces.set(nonce, callId);
        return line.replace('NONCE', nonce);
      });
      this.respond(key, m, this.challenge.status, 'Authentication Required', headers, from);
      return;
    }
    const fields = parseDigestHeader(credentials) ?? {};
    const requestUri = m.first.split(' ')[1] ?? '';
    const algorithm = fields.algorithm ?? 'MD5';
    const ha1 = H(algorithm, `${USERNAME}:${fields.realm}:${PASSWORD}`);
    const ha2 = H(algorithm, `INVITE:${requestUri}`);
    const expected = fields.qop
      ? H(algorithm, `${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:auth:${ha2}`)
      : H(algorithm, `${ha1}:${fields.nonce}:${ha2}`);
    const valid =
      fields.username === USERNAME &&
      fields.uri === requestUri &&
      this.nonces.get(fields.nonce ?? '') === callId &&
      fields.response === expected;
    this.answered.push({
      first: this.firsts.get(callId) ?? { callId: '', fromTag: '', cseq: 0 },
      second: { callId, fromTag, cseq, requestUri },
      header: credentials,
      fields,
      valid,
    });
    if (!valid) {
      this.respond(key, m, 403, 'Forbidden', [], from);
      return;
    }
    this.respond(key, m, 180, 'Ringing', [], from, false);
    const port = this.socket.address().port;
    const sdp = `v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;
    this.respond(
      key,
      m,
      200,
      'OK',
      [`Contact: <sip:trunk@127.0.0.1:${port}>`, 'Content-Type: application/sdp'],
      from,
      true,
      sdp,
    );
  }

  private respond(
    key: string,
    m: SipMessage,
    status: number,
    reason: string,
    extra: string[],
    to: RemoteInfo,
    remember = true,
    body = '',
  ): void {
    const toHeader = one(m, 'to');
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...(m.headers.get('via') ?? []).map((via) => `Via: ${via}`),
      `From: ${one(m, 'from')}`,
      `To: ${toHeader}${status > 100 && !/;tag=/.test(toHeader) ? ';tag=trunk1' : ''}`,
      `Call-ID: ${one(m, 'call-id')}`,
      `CSeq: ${one(m, 'cseq')}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    const text = `${lines.join('\r\n')}\r\n\r\n${body}`;
    if (remember) this.sent.set(key, text);
    this.send(text, to);
  }

  private send(text: string, to: RemoteInfo): void {
    this.socket.send(Buffer.from(text), to.port, to.address);
  }
}

let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
let farPort: number;
let far: ChallengingTrunk | undefined;

beforeAll(async () => {
  engine = await startSipEngine();
  rig = await startLiveKit();
  farPort = await freeUdpPort();
  gw = await startInProcessGateway(
    callGatewayConfig(engine, rig, {
      sip: {
        trunks: [
          {
            name: 'meta-like',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: {
              host: '127.0.0.1',
              port: farPort,
              transport: 'udp',
              username: USERNAME,
              password: PASSWORD,
              fromDomain: 'gateway.example.com',
            },
          },
        ],
        apps: [{ appId: TEST_APP_ID, outboundTrunk: 'meta-like' }],
      },
    }),
    { mediaWorkerEntry: loopbackWorkerEntry() },
  );
  await until(async () => (await api(gw, '/readyz')).ready === true);
});
afterEach(() => {
  far?.close();
  far = undefined;
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
});

async function talkThenHangUp(): Promise<any> {
  const { status, json: call } = await placeCall(gw, { from: CALLER, to: CALLEE });
  expect(status, JSON.stringify(call)).toBe(201);
  await callWhen(gw, call.id, (c) => c.status === 'in_progress' || c.endedAt !== null);
  const hung = await fetch(`${gw.url}/v1/calls/${call.id}`, {
    method: 'PATCH',
    headers: bearer(KEYS.app),
    body: JSON.stringify({ status: 'completed' }),
  });
  expect(hung.status).toBe(200);
  return callWhen(gw, call.id, (c) => c.endedAt !== null);
}

describe('outbound digest: the gateway answers a trunk’s challenge', () => {
  it('answers a 407 SHA-256 qop=auth challenge (as Meta sends) with a Proxy-Authorization it verifies', async () => {
    far = await ChallengingTrunk.start(farPort, {
      status: 407,
      headers: [
        'Proxy-Authenticate: Digest realm="wa.meta.vc", nonce="NONCE", algorithm=SHA-256, qop="auth"',
      ],
    });
    const done = await talkThenHangUp();
    expect(done).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(far.answered).toHaveLength(1);
    const [answered] = far.answered;
    expect(answered?.valid, answered?.header).toBe(true);
    expect(answered?.fields).toMatchObject({
      username: USERNAME,
      realm: 'wa.meta.vc',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000001',
    });
    expect(answered?.fields.response).toMatch(/^[0-9a-f]{64}$/);
    // The same call sent again: Call-ID and From tag kept, CSeq one up.
    expect(answered?.second.callId).toBe(answered?.first.callId);
    expect(answered?.second.fromTag).toBe(answered?.first.fromTag);
    expect(answered?.second.cseq).toBe((answered?.first.cseq ?? 0) + 1);
    expect(answered?.header).not.toContain(PASSWORD);
  });

  it('given MD5 and SHA-256 challenges in two WWW-Authenticate headers, answers the SHA-256 one', async () => {
    far = await ChallengingTrunk.start(farPort, {
      status: 401,
      headers: [
        'WWW-Authenticate: Digest realm="carrier.test", nonce="NONCE", algorithm=MD5, qop="auth"',
        'WWW-Authenticate: Digest realm="carrier.test", nonce="NONCE", algorithm=SHA-256, qop="auth"',
      ],
    });
    const done = await talkThenHangUp();
    expect(done).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(far.answered).toHaveLength(1);
    expect(far.answered[0]?.valid, far.answered[0]?.header).toBe(true);
    expect(far.answered[0]?.fields.algorithm).toBe('SHA-256');
  });

  it('still answers a plain MD5 challenge without qop', async () => {
    far = await ChallengingTrunk.start(farPort, {
      status: 401,
      headers: ['WWW-Authenticate: Digest realm="carrier.test", nonce="NONCE"'],
    });
    const done = await talkThenHangUp();
    expect(done).toMatchObject({ status: 'completed', endReason: 'api_hangup' });
    expect(far.answered[0]?.valid, far.answered[0]?.header).toBe(true);
    expect(far.answered[0]?.fields).toMatchObject({ algorithm: 'MD5' });
    expect(far.answered[0]?.fields.qop).toBeUndefined();
  });
});
