import { createHash } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseDigestHeader } from '../../../src/signalling/digestHash.js';
import {
  chooseChallenge,
  digestAuthorization,
  srfAuthFor,
} from '../../../src/signalling/outbound/digestAnswer.js';
import type { InviteTarget } from '../../../src/signalling/outbound/outboundTrunks.js';
import {
  InviteFailed,
  type InviteOptions,
  type InviteProgress,
  type OutboundDialog,
  type SendInvite,
  UacInvite,
} from '../../../src/signalling/outbound/uacInvite.js';

/**
 * The gateway answering a trunk's 401/407 itself (srf's digest client knows MD5 only): which
 * challenge it picks, the Authorization it computes (checked here with node:crypto, not with the
 * code under test), and the INVITE it sends again, with srf.createUAC as a script.
 * Over real sockets: test/integration/outboundDigest.test.ts.
 */
const logger = pino({ level: 'silent' });
const tick = () => new Promise((resolve) => setImmediate(resolve));
const CREDENTIALS = { username: '+15550100', password: 'meta-issued-password' };
const URI = 'sip:+442071838750@127.0.0.1:5080;transport=udp';

const H = (algorithm: string, text: string) =>
  createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');

/** The response a trunk expects for these credentials (RFC 7616 §3.4.1), computed independently. */
function expectedResponse(fields: Record<string, string>, password: string, method = 'INVITE'): string {
  const algorithm = fields.algorithm ?? 'MD5';
  const ha1 = H(algorithm, `${fields.username}:${fields.realm}:${password}`);
  const ha2 = H(algorithm, `${method}:${fields.uri}`);
  return fields.qop
    ? H(algorithm, `${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:${fields.qop}:${ha2}`)
    : H(algorithm, `${ha1}:${fields.nonce}:${ha2}`);
}

describe('chooseChallenge', () => {
  it('takes SHA-256 over MD5 whatever the order, and skips what it cannot answer', () => {
    const both =
      'Digest realm="wa.meta.vc", nonce="m", algorithm=MD5, qop="auth", Digest realm="wa.meta.vc", nonce="s", algorithm=SHA-256, qop="auth"';
    expect(chooseChallenge(both)).toMatchObject({ algorithm: 'SHA-256', nonce: 's', qop: 'auth' });
    expect(
      chooseChallenge('Digest realm="r", nonce="x", algorithm=SHA-512-256, Digest realm="r", nonce="m"'),
    ).toMatchObject({ algorithm: 'MD5', nonce: 'm', qop: undefined });
    expect(chooseChallenge('Digest realm="r", nonce="n", qop="auth-int"')).toBeUndefined();
    expect(chooseChallenge('Digest realm="r", nonce="n", qop="auth-int,auth"')).toMatchObject({
      qop: 'auth',
    });
    expect(chooseChallenge('Digest realm="r", nonce="n", algorithm=MD5-sess')).toBeUndefined();
    expect(chooseChallenge(undefined)).toBeUndefined();
  });

  it('answers with the response the trunk computes, for SHA-256 and MD5', () => {
    for (const algorithm of ['SHA-256', 'MD5'] as const) {
      const challenge = chooseChallenge(
        `Digest realm="wa.meta.vc", nonce="abc", algorithm=${algorithm}, qop="auth", opaque="o1"`,
      );
      if (!challenge) throw new Error('no challenge');
      const header = digestAuthorization(challenge, { method: 'INVITE', uri: URI }, CREDENTIALS);
      const fields = parseDigestHeader(header) ?? {};
      expect(fields).toMatchObject({
        username: '+15550100',
        realm: 'wa.meta.vc',
        nonce: 'abc',
        uri: URI,
        algorithm,
        qop: 'auth',
        nc: '00000001',
        opaque: 'o1',
      });
      expect(fields.cnonce).toMatch(/^[0-9a-f]{24}$/);
      expect(fields.response).toBe(expectedResponse(fields, CREDENTIALS.password));
      expect(fields.response).toHaveLength(algorithm === 'SHA-256' ? 64 : 32);
      expect(header).not.toContain(CREDENTIALS.password);
    }
  });
});

describe('srfAuthFor', () => {
  const auth = srfAuthFor(CREDENTIALS);
  const msg = (fields: Record<string, string | number>) => ({
    ...fields,
    get: (h: string) => {
      const value = fields[h];
      return value === undefined ? undefined : String(value);
    },
  });
  function decide(req: Record<string, string>, res: Record<string, string | number>) {
    let result: { error: Error | null; username?: string | undefined } | undefined;
    auth(msg(req), msg(res), (error, username) => {
      result = { error, username };
    });
    return result;
  }

  it('declines the INVITE that starts a call: UacInvite answers it', () => {
    const result = decide(
      { method: 'INVITE', To: '<sip:+442071838750@carrier>' },
      { status: 401, 'WWW-Authenticate': 'Digest realm="r", nonce="n", algorithm=MD5' },
    );
    expect(result?.error).toBeInstanceOf(Error);
  });

  it('lets srf answer an in-dialog MD5 challenge, not a SHA-256 or a double one', () => {
    const bye = { method: 'BYE', To: '<sip:+442071838750@carrier>;tag=abc' };
    expect(
      decide(bye, { status: 407, 'Proxy-Authenticate': 'Digest realm="r", nonce="n", qop="auth"' }),
    ).toEqual({ error: null, username: '+15550100' });
    expect(
      decide(bye, { status: 401, 'WWW-Authenticate': 'Digest realm="r", nonce="n", algorithm=SHA-256' })
        ?.error,
    ).toBeInstanceOf(Error);
    expect(
      decide(bye, {
        status: 401,
        'WWW-Authenticate': 'Digest realm="r", nonce="n", Digest realm="r", nonce="m", algorithm=SHA-256',
      })?.error,
    ).toBeInstanceOf(Error);
  });
});

/** srf.createUAC as a script: each INVITE it is asked to send, and the test settles them. */
class ScriptedTrunk {
  readonly sends: {
    uri: string;
    options: InviteOptions;
    progress: InviteProgress;
    settle: { resolve(dialog: OutboundDialog): void; reject(error: unknown): void };
    cancels: number;
  }[] = [];

  readonly send: SendInvite = (uri, options, progress) =>
    new Promise((resolve, reject) => {
      this.sends.push({ uri, options, progress, settle: { resolve, reject }, cancels: 0 });
    });

  /** srf tells that INVITE number `n` (from 0) went out, with this CSeq. */
  sent(n: number, cseq: number): void {
    const invite = this.sends[n];
    if (!invite) throw new Error(`no INVITE ${n}`);
    const headers: Record<string, string> = {
      'Call-ID': 'call-1@gw',
      From: '<sip:+15550100@carrier.test>;tag=ftag1',
      CSeq: `${cseq} INVITE`,
    };
    invite.progress.cbRequest(null, {
      stackTxnId: `txn-${n}`,
      uri: invite.uri,
      get: (h) => headers[h],
      cancel: () => void invite.cancels++,
    });
  }

  /** INVITE `n` gets a challenge, as srf rejects createUAC with it (a SipError with `res`). */
  challenge(n: number, status: 401 | 407, header: string): void {
    const name = status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const res = {
      status,
      source_address: '203.0.113.9',
      source_port: 5061,
      get: (h: string) => (h === name ? header : undefined),
    };
    this.sends[n]?.settle.reject(Object.assign(new Error(`${status}`), { status, reason: 'Auth', res }));
  }

  answer(n: number): void {
    this.sends[n]?.settle.resolve({
      id: 'dialog-1',
      sip: { callId: 'call-1@gw' },
      remote: { sdp: 'v=0', uri: 'sip:x@y' },
      on: () => undefined,
      destroy: () => Promise.resolve(),
    } as unknown as OutboundDialog);
  }
}

function dial(target: Partial<InviteTarget> = {}) {
  const trunk = new ScriptedTrunk();
  const sent: string[] = [];
  const invite = new UacInvite(
    trunk.send,
    {
      trunk: 'whatsapp',
      uri: URI,
      headers: { From: '<sip:+15550100@carrier.test>', To: '<sip:+442071838750@127.0.0.1>' },
      auth: CREDENTIALS,
      ...target,
    },
    'v=0 offer',
    { onSent: (request) => sent.push(request.stackTxnId), onProvisional: () => undefined },
    logger,
  );
  return { trunk, invite, sent };
}

describe('UacInvite answering a challenge', () => {
  it('sends the INVITE again in the same call with a SHA-256 Proxy-Authorization', async () => {
    const { trunk, invite, sent } = dial();
    expect(trunk.sends).toHaveLength(1);
    // The first INVITE goes without credentials, and srf is told to leave its challenge to us.
    expect(Object.keys(trunk.sends[0]?.options.headers ?? {})).toEqual(['From', 'To']);
    expect(typeof trunk.sends[0]?.options.auth).toBe('function');
    trunk.sent(0, 1);
    trunk.challenge(0, 407, 'Digest realm="wa.meta.vc", nonce="n1", algorithm=SHA-256, qop="auth"');
    await tick();

    expect(trunk.sends).toHaveLength(2);
    const again = trunk.sends[1];
    expect(again?.uri).toBe(URI);
    expect(again?.options.localSdp).toBe('v=0 offer');
    const headers = again?.options.headers ?? {};
    expect(headers).toMatchObject({
      From: '<sip:+15550100@carrier.test>;tag=ftag1',
      To: '<sip:+442071838750@127.0.0.1>',
      'Call-ID': 'call-1@gw',
      CSeq: '2 INVITE',
    });
    expect(headers.Authorization).toBeUndefined();
    const fields = parseDigestHeader(headers['Proxy-Authorization']) ?? {};
    expect(fields).toMatchObject({ algorithm: 'SHA-256', nonce: 'n1', uri: URI, username: '+15550100' });
    expect(fields.response).toBe(expectedResponse(fields, CREDENTIALS.password));
    // The Request-URI names an address: no pinning to the challenger needed.
    expect(again?.options.proxy).toBeUndefined();

    trunk.sent(1, 2);
    trunk.answer(1);
    await expect(invite.answered).resolves.toMatchObject({ id: 'dialog-1' });
    expect(sent).toEqual(['txn-0', 'txn-1']);
  });

  it('answers a 401 with Authorization, and a stale=true second challenge once more', async () => {
    const { trunk, invite } = dial();
    trunk.sent(0, 5);
    trunk.challenge(0, 401, 'Digest realm="carrier", nonce="n1", algorithm=MD5');
    await tick();
    expect(trunk.sends[1]?.options.headers.CSeq).toBe('6 INVITE');
    const first = parseDigestHeader(trunk.sends[1]?.options.headers.Authorization) ?? {};
    expect(first.qop).toBeUndefined();
    expect(first.response).toBe(expectedResponse(first, CREDENTIALS.password));

    trunk.sent(1, 6);
    trunk.challenge(1, 401, 'Digest realm="carrier", nonce="n2", algorithm=MD5, stale=true');
    await tick();
    expect(trunk.sends).toHaveLength(3);
    expect(trunk.sends[2]?.options.headers.CSeq).toBe('7 INVITE');
    expect(parseDigestHeader(trunk.sends[2]?.options.headers.Authorization)?.nonce).toBe('n2');
    trunk.sent(2, 7);
    trunk.answer(2);
    await expect(invite.answered).resolves.toBeDefined();
  });

  it('takes a second challenge that is not stale as the answer: wrong credentials', async () => {
    const { trunk, invite } = dial();
    trunk.sent(0, 1);
    trunk.challenge(0, 407, 'Digest realm="r", nonce="n1", algorithm=SHA-256');
    await tick();
    trunk.sent(1, 2);
    trunk.challenge(1, 407, 'Digest realm="r", nonce="n2", algorithm=SHA-256');
    await expect(invite.answered).rejects.toEqual(new InviteFailed(407, '407 Auth', 'Auth'));
    expect(trunk.sends).toHaveLength(2);
  });

  it('does not answer without credentials, or a challenge it cannot compute', async () => {
    const none = dial({ auth: undefined });
    expect(none.trunk.sends[0]?.options.auth).toBeUndefined();
    none.trunk.sent(0, 1);
    none.trunk.challenge(0, 401, 'Digest realm="r", nonce="n1"');
    await expect(none.invite.answered).rejects.toMatchObject({ status: 401 });

    const unknown = dial();
    unknown.trunk.sent(0, 1);
    unknown.trunk.challenge(0, 401, 'Digest realm="r", nonce="n1", algorithm=AKAv1-MD5');
    await expect(unknown.invite.answered).rejects.toMatchObject({ status: 401 });
    expect(unknown.trunk.sends).toHaveLength(1);
  });

  it('sends the credentials to the server that challenged when the Request-URI names a host', async () => {
    const { trunk } = dial({ uri: 'sip:+442071838750@wa.meta.vc;transport=tls' });
    trunk.sent(0, 1);
    trunk.challenge(0, 407, 'Digest realm="wa.meta.vc", nonce="n1", algorithm=SHA-256, qop="auth"');
    await tick();
    expect(trunk.sends[1]?.options.proxy).toBe('sip:203.0.113.9:5061;transport=tls');
    expect(parseDigestHeader(trunk.sends[1]?.options.headers['Proxy-Authorization'])?.uri).toBe(
      'sip:+442071838750@wa.meta.vc;transport=tls',
    );
  });

  it('a call given up while the new INVITE is on its way cancels the new one, not the old', async () => {
    const { trunk, invite } = dial();
    trunk.sent(0, 1);
    trunk.challenge(0, 407, 'Digest realm="r", nonce="n1", algorithm=SHA-256');
    await tick();
    invite.abandon();
    trunk.sent(1, 2);
    expect(trunk.sends[0]?.cancels).toBe(0);
    expect(trunk.sends[1]?.cancels).toBe(1);
  });

  it('a call given up before the challenge came sends nothing more', async () => {
    const { trunk, invite } = dial();
    trunk.sent(0, 1);
    invite.abandon();
    expect(trunk.sends[0]?.cancels).toBe(1);
    trunk.challenge(0, 407, 'Digest realm="r", nonce="n1", algorithm=SHA-256');
    await tick();
    expect(trunk.sends).toHaveLength(1);
  });
});
