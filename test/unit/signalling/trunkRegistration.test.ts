import { createHash } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrunkConfig } from '../../../src/config/sipSchema.js';
import { parseDigestHeader } from '../../../src/signalling/digestHash.js';
import {
  type AttemptResult,
  DEFAULT_REGISTRATION_TIMING,
  type RegistrationTarget,
  type SendRequest,
  type SentRequestResponse,
} from '../../../src/signalling/registration/registrationTypes.js';
import { TrunkRegistrar } from '../../../src/signalling/registration/trunkRegistrar.js';
import { TrunkRegistration } from '../../../src/signalling/registration/trunkRegistration.js';

/**
 * One trunk's registration against a scripted registrar (srf.request as a script), on fake
 * timers: the headers of each REGISTER, the digest answers (checked with node:crypto), 423, the
 * refresh and retry timers, and the un-REGISTER on stop. Over real sockets, against sipp:
 * test/integration/trunkRegistration.test.ts.
 */
const logger = pino({ level: 'silent' });
const PASSWORD = 'registrar-secret';
const TARGET: RegistrationTarget = {
  trunk: 'carrier',
  uri: 'sip:registrar.test:5070;transport=udp',
  aor: 'sip:gw@registrar.test',
  contact: '<sip:gw@localhost>',
  expiresSeconds: 3600,
  credentials: { username: 'gw', password: PASSWORD },
};
/** What the SIP server makes of `@localhost` in the Contact. */
const SENT_CONTACT = '<sip:gw@192.0.2.10:5060>';

interface Sent {
  uri: string;
  proxy: string | undefined;
  headers: Record<string, string>;
  /** Answers this REGISTER (a provisional first if asked); later answers count as late ones. */
  answer(status: number, reason: string, headers?: Record<string, string>): void;
}

type Reply = { status: number; reason: string; headers?: Record<string, string> } | 'silence' | 'unsendable';

/** srf.request as a script: each REGISTER is recorded and answered by `reply` (or left hanging). */
class ScriptedRegistrar {
  readonly sent: Sent[] = [];
  reply: (sent: Sent, index: number) => Reply = () => ({ status: 200, reason: 'OK' });

  readonly send: SendRequest = (uri, options, done) => {
    const listeners: ((response: SentRequestResponse) => void)[] = [];
    const headers = { ...options.headers, Contact: SENT_CONTACT };
    const sent: Sent = {
      uri,
      proxy: options.proxy,
      headers,
      answer: (status, reason, extra = {}) => {
        const lower = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k.toLowerCase(), v]));
        for (const listener of listeners)
          listener({ status, reason, get: (name) => lower[name.toLowerCase()] });
      },
    };
    const reply = this.reply(sent, this.sent.length);
    this.sent.push(sent);
    if (reply === 'unsendable') {
      done(new Error('cannot call app#request in unconnected state'), undefined);
      return;
    }
    done(null, {
      get: (name) => Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1],
      on: (_event, listener) => listeners.push(listener),
    });
    if (reply === 'silence') return;
    queueMicrotask(() => {
      sent.answer(100, 'Trying');
      sent.answer(reply.status, reply.reason, reply.headers);
    });
  };

  get lastExpires(): string | undefined {
    return this.sent.at(-1)?.headers.Expires;
  }
}

const H = (algorithm: string, text: string) =>
  createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
    .update(text)
    .digest('hex');

function expectedResponse(fields: Record<string, string>, password: string): string {
  const algorithm = fields.algorithm ?? 'MD5';
  const ha1 = H(algorithm, `${fields.username}:${fields.realm}:${password}`);
  const ha2 = H(algorithm, `REGISTER:${fields.uri}`);
  return fields.qop
    ? H(algorithm, `${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:${fields.qop}:${ha2}`)
    : H(algorithm, `${ha1}:${fields.nonce}:${ha2}`);
}

const TIMING = { ...DEFAULT_REGISTRATION_TIMING, retryJitter: 0 };

function registration(registrar: ScriptedRegistrar, results: AttemptResult[] = [], target = TARGET) {
  return new TrunkRegistration(target, {
    send: registrar.send,
    timing: TIMING,
    logger,
    now: () => new Date(),
    random: () => 0,
    onResult: (result) => results.push(result),
  });
}

const cseqOf = (sent: Sent | undefined) => Number.parseInt(sent?.headers.CSeq ?? '', 10);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TrunkRegistration', () => {
  it('registers, refreshes at half the granted time in the same registration, and un-REGISTERs on stop', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index): Reply =>
      index === 0
        ? { status: 200, reason: 'OK', headers: { Contact: `${SENT_CONTACT};expires=600` } }
        : { status: 200, reason: 'OK', headers: { Expires: '3600' } };
    const results: AttemptResult[] = [];
    const reg = registration(registrar, results);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(registrar.sent).toHaveLength(1);
    const [first] = registrar.sent;
    expect(first).toMatchObject({
      uri: TARGET.uri,
      proxy: undefined,
      headers: {
        From: '<sip:gw@registrar.test>',
        To: '<sip:gw@registrar.test>',
        CSeq: '1 REGISTER',
        Expires: '3600',
      },
    });
    expect(first?.headers['Call-ID']).toMatch(/^[0-9a-f]{32}@gateway$/);
    expect(reg.state).toEqual({
      state: 'registered',
      expiresAt: '2030-01-01T00:10:00.000Z',
      lastError: null,
      lastAttemptAt: '2030-01-01T00:00:00.000Z',
      nextAttemptAt: '2030-01-01T00:05:00.000Z',
    });

    await vi.advanceTimersByTimeAsync(299_999);
    expect(registrar.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(registrar.sent).toHaveLength(2);
    const second = registrar.sent[1];
    expect(second?.headers['Call-ID']).toBe(first?.headers['Call-ID']);
    expect(cseqOf(second)).toBe(2);
    // It asks for what it wants again, not for what it was granted.
    expect(second?.headers.Expires).toBe('3600');
    expect(reg.state).toMatchObject({ state: 'registered', expiresAt: '2030-01-01T01:05:00.000Z' });

    await reg.stop();
    expect(registrar.sent).toHaveLength(3);
    expect(registrar.sent[2]?.headers).toMatchObject({ Expires: '0', CSeq: '3 REGISTER' });
    expect(registrar.sent[2]?.headers['Call-ID']).toBe(first?.headers['Call-ID']);
    expect(reg.state).toMatchObject({ state: 'unregistered', expiresAt: null, nextAttemptAt: null });
    expect(results).toEqual(['registered', 'registered', 'unregistered']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    [401, 'WWW-Authenticate', 'Authorization', 'MD5'],
    [407, 'Proxy-Authenticate', 'Proxy-Authorization', 'SHA-256'],
  ] as const)(
    'answers a %i %s challenge (%s, qop=auth) with a right digest',
    async (status, challenge, answer, algorithm) => {
      const registrar = new ScriptedRegistrar();
      registrar.reply = (sent) =>
        sent.headers[answer]
          ? { status: 200, reason: 'OK' }
          : {
              status,
              reason: 'Unauthorized',
              headers: {
                [challenge]: `Digest realm="carrier", nonce="n-1", algorithm=${algorithm}, qop="auth", opaque="op"`,
              },
            };
      const results: AttemptResult[] = [];
      const reg = registration(registrar, results);
      reg.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(registrar.sent).toHaveLength(2);
      const [first, second] = registrar.sent;
      expect(first?.headers[answer]).toBeUndefined();
      expect(cseqOf(second)).toBe(cseqOf(first) + 1);
      expect(second?.headers['Call-ID']).toBe(first?.headers['Call-ID']);
      const fields = parseDigestHeader(second?.headers[answer]) ?? {};
      expect(fields).toMatchObject({
        username: 'gw',
        realm: 'carrier',
        nonce: 'n-1',
        uri: TARGET.uri,
        algorithm,
        qop: 'auth',
        nc: '00000001',
        opaque: 'op',
      });
      expect(fields.response).toBe(expectedResponse(fields, PASSWORD));
      expect(second?.headers[answer]).not.toContain(PASSWORD);
      expect(reg.state.state).toBe('registered');
      expect(results).toEqual(['challenged', 'registered']);
      await reg.stop();
    },
  );

  it('takes a second challenge to its answer as refused credentials, and backs off doubling', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = () => ({
      status: 401,
      reason: 'Unauthorized',
      headers: { 'WWW-Authenticate': 'Digest realm="carrier", nonce="n"' },
    });
    const results: AttemptResult[] = [];
    const reg = registration(registrar, results);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(registrar.sent).toHaveLength(2);
    expect(reg.state).toMatchObject({
      state: 'failed',
      lastError: '401 Unauthorized: credentials refused',
      expiresAt: null,
      nextAttemptAt: '2030-01-01T00:00:05.000Z',
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(registrar.sent).toHaveLength(4);
    expect(reg.state.nextAttemptAt).toBe('2030-01-01T00:00:15.000Z');
    await vi.advanceTimersByTimeAsync(9_999);
    expect(registrar.sent).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(registrar.sent).toHaveLength(6);
    // Every attempt of one registration keeps its Call-ID; CSeq never goes back.
    expect(new Set(registrar.sent.map((s) => s.headers['Call-ID'])).size).toBe(1);
    expect(registrar.sent.map(cseqOf)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results).toEqual(['challenged', 'rejected', 'challenged', 'rejected', 'challenged', 'rejected']);
    // Never registered: nothing to remove on stop.
    await reg.stop();
    expect(registrar.sent).toHaveLength(6);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers a stale second challenge again', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index) =>
      index < 2
        ? {
            status: 401,
            reason: 'Unauthorized',
            headers: {
              'WWW-Authenticate': `Digest realm="carrier", nonce="n${index}"${index === 1 ? ', stale=true' : ''}`,
            },
          }
        : { status: 200, reason: 'OK' };
    const reg = registration(registrar);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(registrar.sent).toHaveLength(3);
    expect(parseDigestHeader(registrar.sent[2]?.headers.Authorization)?.nonce).toBe('n1');
    expect(reg.state.state).toBe('registered');
    await reg.stop();
  });

  it('asks again for Min-Expires after 423, and keeps asking for it', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (sent) =>
      Number(sent.headers.Expires) < 7200
        ? { status: 423, reason: 'Interval Too Brief', headers: { 'Min-Expires': '7200' } }
        : { status: 200, reason: 'OK' };
    const results: AttemptResult[] = [];
    const reg = registration(registrar, results);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(registrar.sent.map((s) => s.headers.Expires)).toEqual(['3600', '7200']);
    expect(reg.state).toMatchObject({ state: 'registered', expiresAt: '2030-01-01T02:00:00.000Z' });
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(registrar.lastExpires).toBe('7200');
    expect(results).toEqual(['interval_too_brief', 'registered', 'registered']);
    await reg.stop();
  });

  it('fails on a 423 without a longer Min-Expires', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = () => ({ status: 423, reason: 'Interval Too Brief', headers: { 'Min-Expires': '60' } });
    const reg = registration(registrar);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(registrar.sent).toHaveLength(1);
    expect(reg.state).toMatchObject({
      state: 'failed',
      lastError: '423 Interval Too Brief: no Min-Expires above the 3600 s asked',
    });
    await reg.stop();
  });

  it('gives up on an unanswered REGISTER, ignores its late answer, and retries', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index) => (index === 0 ? 'silence' : { status: 200, reason: 'OK' });
    const results: AttemptResult[] = [];
    const reg = registration(registrar, results);
    reg.start();
    await vi.advanceTimersByTimeAsync(TIMING.responseTimeoutMs - 1);
    expect(reg.state.state).toBe('registering');
    await vi.advanceTimersByTimeAsync(1);
    expect(reg.state).toMatchObject({ state: 'failed', lastError: 'no response within 35000 ms' });
    registrar.sent[0]?.answer(200, 'OK');
    expect(reg.state.state).toBe('failed');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(registrar.sent).toHaveLength(2);
    expect(reg.state.state).toBe('registered');
    expect(results).toEqual(['timeout', 'registered']);
    await reg.stop();
  });

  it('keeps a binding a refresh failed to extend until it ends', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index) =>
      index === 0
        ? { status: 200, reason: 'OK', headers: { Expires: '600' } }
        : { status: 503, reason: 'Busy' };
    const reg = registration(registrar);
    reg.start();
    await vi.advanceTimersByTimeAsync(300_000);
    expect(reg.state).toMatchObject({
      state: 'failed',
      lastError: '503 Busy',
      expiresAt: '2030-01-01T00:10:00.000Z',
    });
    // Retried at 5 s, 10 s, 20 s, … past the binding's end: none is known after it.
    await vi.advanceTimersByTimeAsync(300_000);
    expect(reg.state).toMatchObject({ state: 'failed', expiresAt: null });
    await reg.stop();
    // It was bound: the un-REGISTER went out (and was refused).
    expect(registrar.lastExpires).toBe('0');
    expect(reg.state).toMatchObject({ state: 'unregistered', lastError: 'un-REGISTER: 503 Busy' });
  });

  it('counts a REGISTER it could not send as an error, and retries', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index) => (index === 0 ? 'unsendable' : { status: 200, reason: 'OK' });
    const results: AttemptResult[] = [];
    const reg = registration(registrar, results);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reg.state.lastError).toBe('REGISTER not sent: cannot call app#request in unconnected state');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(results).toEqual(['error', 'registered']);
    await reg.stop();
  });

  it('bounds the un-REGISTER by its timeout, and leaves no timer behind', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index) => (index === 0 ? { status: 200, reason: 'OK' } : 'silence');
    const reg = registration(registrar);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    const stopped = reg.stop();
    await vi.advanceTimersByTimeAsync(TIMING.unregisterTimeoutMs);
    await stopped;
    expect(reg.state).toMatchObject({
      state: 'unregistered',
      lastError: 'un-REGISTER: no answer to the un-REGISTER within 2000 ms',
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('un-REGISTERs when stopped with a REGISTER still out, and sends nothing after', async () => {
    const registrar = new ScriptedRegistrar();
    registrar.reply = (_sent, index) => (index === 0 ? 'silence' : { status: 200, reason: 'OK' });
    const reg = registration(registrar);
    reg.start();
    await vi.advanceTimersByTimeAsync(0);
    await reg.stop();
    expect(registrar.sent.map((s) => s.headers.Expires)).toEqual(['3600', '0']);
    registrar.sent[0]?.answer(200, 'OK');
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(registrar.sent).toHaveLength(2);
    expect(reg.state.state).toBe('unregistered');
    expect(vi.getTimerCount()).toBe(0);
  });
});

function trunk(
  name: string,
  registration: Partial<NonNullable<TrunkConfig['registration']>> | null,
): TrunkConfig {
  return {
    name,
    kind: 'pstn',
    sourceAddresses: ['127.0.0.1'],
    inboundAuth: null,
    outbound: { host: 'registrar.test', transport: 'udp' },
    registration: registration && {
      username: 'gw',
      password: PASSWORD,
      expiresSeconds: 3600,
      ...registration,
    },
    media: { encryption: 'none', policy: 'required' },
  };
}

describe('TrunkRegistrar', () => {
  it('starts, keeps, replaces and ends registrations as the trunks change', async () => {
    const registrar = new ScriptedRegistrar();
    const metrics = new Registry();
    const registrations = new TrunkRegistrar({
      send: registrar.send,
      logger,
      metrics,
      timing: { retryJitter: 0 },
    });
    expect(await registrations.probe().check()).toBeNull();
    registrations.sync([trunk('a', {}), trunk('b', {}), trunk('plain', null)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(registrar.sent.map((s) => s.uri)).toEqual([
      'sip:registrar.test;transport=udp',
      'sip:registrar.test;transport=udp',
    ]);
    expect(registrations.state('a')?.state).toBe('registered');
    expect(registrations.state('plain')).toBeUndefined();
    expect(await registrations.probe().check()).toBe(true);
    const up = await metrics.getSingleMetricAsString('gateway_sip_registration_up');
    expect(up).toContain('gateway_sip_registration_up{trunk="a"} 1');
    expect(up).toContain('gateway_sip_registration_up{trunk="b"} 1');

    // The same settings: kept (no new REGISTER). New settings for b: the old binding is removed
    // first, then b registers anew under another Call-ID. a is gone: un-REGISTERed.
    const callIdOfB = registrar.sent[1]?.headers['Call-ID'];
    registrar.reply = (sent) =>
      sent.headers.Expires === '0' ? { status: 200, reason: 'OK' } : { status: 403, reason: 'Forbidden' };
    registrations.sync([trunk('b', { contactUser: 'other' }), trunk('plain', null)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(
      registrar.sent.slice(2).map((s) => [s.headers['Call-ID'] === callIdOfB, s.headers.Expires]),
    ).toEqual([
      [false, '0'],
      [true, '0'],
      [false, '3600'],
    ]);
    expect(registrations.state('a')).toBeUndefined();
    expect(registrations.state('b')).toMatchObject({ state: 'failed', lastError: '403 Forbidden' });
    expect(await registrations.probe().check()).toBe(
      'trunk b: failed (403 Forbidden), next attempt at 2030-01-01T00:00:05.000Z',
    );
    expect(await metrics.getSingleMetricAsString('gateway_sip_registration_up')).not.toContain('trunk="a"');
    const attempts = await metrics.getSingleMetricAsString('gateway_sip_registration_attempts_total');
    expect(attempts).toContain('gateway_sip_registration_attempts_total{trunk="b",result="rejected"} 1');
    expect(attempts).toContain('gateway_sip_registration_attempts_total{trunk="a",result="unregistered"} 1');

    await registrations.stop();
    registrations.sync([trunk('late', {})]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(registrations.state('late')).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});
