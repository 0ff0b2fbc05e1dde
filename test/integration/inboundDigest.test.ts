import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDigestHeader } from '../../src/signalling/digestHash.js';
import { api, callGatewayConfig, callsOf, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, formatSippResult, runSipp } from '../support/sipp.js';
import { OTHER_APP_ID } from '../support/testKeys.js';
import { type Peer, request, SDP, statusOf, udpPeer } from './sipRawPeer.js';

/**
 * Inbound digest authentication over real sockets, through the embedded SIP server: sipp answers
 * the gateway's challenge (its own MD5 code), then its Authorization header, captured from sipp's
 * message log, is sent again in a new dialog by a raw UDP peer, as an attacker who saw it would,
 * to the same number and to another app's number. SHA-256 (which sipp cannot compute) and the
 * nonce of a gateway that has since restarted are answered by the raw peer, whose responses are
 * computed here with node:crypto.
 */
const ROUTED = ROUTED_NUMBER;
const OTHER_NUMBER = '+15550188';
const CREDENTIALS = { realm: 'gateway', username: 'carrier', password: 'correct-horse' };

let engine: SipEngineProcess;
beforeAll(async () => {
  engine = await startSipEngine();
});
afterAll(async () => {
  await engine?.stop();
});

let running: RunningGateway | undefined;
const peers: Peer[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  await running?.stop();
  running = undefined;
});

async function gateway(algorithm?: 'MD5' | 'SHA-256'): Promise<RunningGateway> {
  const gw = await startInProcessGateway(
    callGatewayConfig(engine, undefined, {
      sip: {
        ringTimeoutSeconds: 1,
        trunks: [
          {
            name: 'secured',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1'],
            inboundAuth: { ...CREDENTIALS, ...(algorithm ? { algorithm } : {}) },
          },
        ],
        numbers: [
          { number: ROUTED, appId: 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X' },
          { number: OTHER_NUMBER, appId: OTHER_APP_ID },
        ],
      },
    }),
  );
  running = gw;
  await until(async () => ((await api(gw, '/readyz')) as any).parts.sip.ok === true);
  return gw;
}

const uriOf = (number: string) => `sip:${number}@127.0.0.1:${engine.sipPort}`;

async function allCalls(gw: RunningGateway): Promise<any[]> {
  const other = (await api(gw, `/v1/calls?appId=${OTHER_APP_ID}&limit=100`)).data;
  return [...(await callsOf(gw)), ...other];
}

/** One INVITE transaction from a raw UDP peer: every response up to the final, which it ACKs. */
async function invite(
  peer: Peer,
  o: { number: string; callId: string; cseq: number; authorization?: string },
): Promise<{ final: string; responses: number[] }> {
  const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  const uri = uriOf(o.number);
  peer.send(
    request(peer, engine, {
      method: 'INVITE',
      uri,
      callId: o.callId,
      cseq: o.cseq,
      branch,
      body: SDP,
      extra: [
        'Content-Type: application/sdp',
        ...(o.authorization ? [`Authorization: ${o.authorization}`] : []),
      ],
    }),
  );
  const responses: number[] = [];
  for (;;) {
    const message = await peer.next(10_000);
    const status = statusOf(message);
    if (!status || !/^CSeq: \d+ INVITE/im.test(message)) continue;
    responses.push(status);
    if (status < 200) continue;
    const toTag = /^To:.*;tag=([^;\s]+)/im.exec(message)?.[1];
    peer.send(request(peer, engine, { method: 'ACK', uri, callId: o.callId, cseq: o.cseq, branch, toTag }));
    return { final: message, responses };
  }
}

function header(message: string, name: string): string {
  return new RegExp(`^${name}: (.*)$`, 'im').exec(message)?.[1]?.trim() ?? '';
}

/** What a peer that knows the password answers `challenge` with, for an INVITE to `number`. */
function answer(challenge: string, number: string, o: { algorithm?: string; password?: string } = {}) {
  const fields = parseDigestHeader(challenge) ?? {};
  const algorithm = o.algorithm ?? fields.algorithm ?? 'MD5';
  const h = (text: string) =>
    createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
      .update(text)
      .digest('hex');
  const uri = uriOf(number);
  const cnonce = randomBytes(4).toString('hex');
  const ha1 = h(`${CREDENTIALS.username}:${fields.realm}:${o.password ?? CREDENTIALS.password}`);
  const response = h(`${ha1}:${fields.nonce}:00000001:${cnonce}:auth:${h(`INVITE:${uri}`)}`);
  return `Digest username="${CREDENTIALS.username}", realm="${fields.realm}", nonce="${fields.nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="${cnonce}"`;
}

async function peer(): Promise<Peer> {
  const p = await udpPeer(engine.sipPort);
  peers.push(p);
  return p;
}

describe('inbound digest authentication', () => {
  it('a captured Authorization header replayed in a new dialog gets a fresh 401, and no call', async () => {
    const gw = await gateway();
    const sipp = await runSipp({
      scenario: 'uac-auth-unanswered',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED,
      authUser: CREDENTIALS.username,
      authPassword: CREDENTIALS.password,
      // sipp's digest uri is sip:host:port unless told; a real UA's is the Request-URI.
      extraArgs: ['-auth_uri', `${ROUTED}@127.0.0.1:${engine.sipPort}`],
      traceMessages: true,
      calls: 1,
    });
    assertAllCallsSucceeded(sipp, 1);
    expect(await allCalls(gw)).toHaveLength(1);
    const captured = /^\s*Authorization: (Digest .*)$/im.exec(sipp.messageLog ?? '')?.[1]?.trim();
    expect(captured, formatSippResult(sipp)).toMatch(/uri="sip:\+15550199@/);

    // The same credentials, a new Call-ID: challenged again (stale=true), no second call.
    const replay = await invite(await peer(), {
      number: ROUTED,
      callId: `replay-${randomBytes(4).toString('hex')}`,
      cseq: 1,
      authorization: captured,
    });
    expect(statusOf(replay.final)).toBe(401);
    expect(replay.responses).not.toContain(180);
    expect(header(replay.final, 'WWW-Authenticate')).toMatch(/stale=true/);

    // The same credentials on an INVITE to another app's number: refused outright.
    const elsewhere = await invite(await peer(), {
      number: OTHER_NUMBER,
      callId: `elsewhere-${randomBytes(4).toString('hex')}`,
      cseq: 1,
      authorization: captured,
    });
    expect(statusOf(elsewhere.final)).toBe(403);
    expect(header(elsewhere.final, 'Reason')).toMatch(/another request-URI/);

    const calls = await allCalls(gw);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ toAddress: ROUTED, metadata: { trunk: 'secured' } });
  });

  it('challenges with SHA-256 where the trunk says so, and takes a call answered with it once', async () => {
    const gw = await gateway('SHA-256');
    const caller = await peer();
    const callId = `sha-${randomBytes(4).toString('hex')}`;
    const first = await invite(caller, { number: ROUTED, callId, cseq: 1 });
    expect(statusOf(first.final)).toBe(401);
    const challenge = header(first.final, 'WWW-Authenticate');
    expect(challenge).toMatch(/algorithm=SHA-256/);
    expect(challenge).toMatch(/qop="auth"/);

    // MD5 where SHA-256 was asked for: refused.
    const md5 = await invite(caller, {
      number: ROUTED,
      callId,
      cseq: 2,
      authorization: answer(challenge, ROUTED, { algorithm: 'MD5' }),
    });
    expect(statusOf(md5.final)).toBe(403);
    expect(await allCalls(gw)).toEqual([]);

    const fresh = header(
      (await invite(caller, { number: ROUTED, callId, cseq: 3 })).final,
      'WWW-Authenticate',
    );
    const credentials = answer(fresh, ROUTED);
    expect(/response="([0-9a-f]+)"/.exec(credentials)?.[1]).toHaveLength(64);
    const right = await invite(caller, { number: ROUTED, callId, cseq: 4, authorization: credentials });
    // It rang (a call), then ended at the ring timeout.
    expect(right.responses).toContain(180);
    expect(statusOf(right.final)).toBe(480);
    expect(await allCalls(gw)).toHaveLength(1);

    const replay = await invite(await peer(), {
      number: ROUTED,
      callId: `sha-replay-${randomBytes(4).toString('hex')}`,
      cseq: 1,
      authorization: credentials,
    });
    expect(statusOf(replay.final)).toBe(401);
    expect(header(replay.final, 'WWW-Authenticate')).toMatch(/algorithm=SHA-256.*stale=true/);
    expect(await allCalls(gw)).toHaveLength(1);
  });

  it('a nonce from before a restart gets a fresh 401 with stale=true, a wrong password still 403', async () => {
    const before = await gateway();
    const caller = await peer();
    const callId = `restart-${randomBytes(4).toString('hex')}`;
    const challenged = await invite(caller, { number: ROUTED, callId, cseq: 1 });
    const oldChallenge = header(challenged.final, 'WWW-Authenticate');
    expect(oldChallenge).toMatch(/^Digest /);
    await before.stop();
    running = undefined;

    const after = await gateway();
    const stale = await invite(caller, {
      number: ROUTED,
      callId,
      cseq: 2,
      authorization: answer(oldChallenge, ROUTED),
    });
    expect(statusOf(stale.final)).toBe(401);
    const newChallenge = header(stale.final, 'WWW-Authenticate');
    expect(newChallenge).toMatch(/stale=true/);
    expect(parseDigestHeader(newChallenge)?.nonce).not.toBe(parseDigestHeader(oldChallenge)?.nonce);

    const wrong = await invite(caller, {
      number: ROUTED,
      callId,
      cseq: 3,
      authorization: answer(oldChallenge, ROUTED, { password: 'wrong-horse' }),
    });
    expect(statusOf(wrong.final)).toBe(403);

    const right = await invite(caller, {
      number: ROUTED,
      callId,
      cseq: 4,
      authorization: answer(newChallenge, ROUTED),
    });
    expect(right.responses).toContain(180);
    expect(await allCalls(after)).toHaveLength(1);
  });
});
