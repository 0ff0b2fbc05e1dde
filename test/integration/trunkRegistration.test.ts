import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDigestHeader } from '../../src/signalling/digestHash.js';
import {
  DRACHTIO_SERVER_BIN,
  type SipServerProcess,
  startDrachtioServer,
} from '../support/drachtioServerProcess.js';
import { callGatewayConfig, metricValue, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { startSipEngine } from '../support/sipEngineProcess.js';
import { header, parseSip, type SipText } from '../support/sipMessageText.js';
import {
  assertAllCallsSucceeded,
  formatSippResult,
  killAllSipp,
  type SippResult,
  type SippServer,
  type SippTransport,
  startSippServer,
} from '../support/sipp.js';
import { bearer, KEYS } from '../support/testKeys.js';

/**
 * Outbound registration (sip.trunks[].registration, RFC 3261 §10) over real sockets: an in-process
 * gateway registers one trunk through the embedded SIP server (and a real drachtio-server where
 * DRACHTIO_SERVER_BIN names one) with sipp as the registrar, one scenario per behaviour
 * (test/scenarios/registrar-*.xml). Each test waits on sipp finishing its
 * scenario (the REGISTERs it expects arrived, answered as scripted) or on the state the API
 * reports, then reads sipp's message log for the REGISTERs as they came over the wire.
 *
 * The registrar's timers are shortened (a refresh floor, a first retry, a response timeout under
 * two seconds) so each behaviour shows within a few seconds.
 */
const USERNAME = 'gw-user';
const PASSWORD = 'registrar-secret-7';
const CONTACT_USER = 'gw-contact';
const TIMING = {
  refreshFloorMs: 300,
  retryInitialMs: 500,
  retryMaxMs: 2_000,
  responseTimeoutMs: 1_500,
  unregisterTimeoutMs: 1_000,
};

/** The embedded SIP server always; a real drachtio-server too where DRACHTIO_SERVER_BIN names one. */
const servers: [string, () => Promise<SipServerProcess>][] = [
  ['the embedded SIP server', () => startSipEngine()],
  ...(DRACHTIO_SERVER_BIN
    ? [
        ['drachtio-server', () => startDrachtioServer(DRACHTIO_SERVER_BIN as string)] as [
          string,
          () => Promise<SipServerProcess>,
        ],
      ]
    : []),
];

let engine: SipServerProcess;
let gw: RunningGateway | undefined;
let registrar: SippServer | undefined;

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
  await registrar?.stop({ graceful: false });
  registrar = undefined;
});
afterAll(() => {
  killAllSipp();
});

async function startRegistrar(
  scenario: string,
  transport: SippTransport,
  keys: Record<string, string | number> = {},
): Promise<SippServer> {
  registrar = await startSippServer({ scenario, transport, calls: 1, keys, hardTimeoutMs: 60_000 });
  return registrar;
}

/** A gateway whose one trunk, `carrier`, registers with `at` over its transport. */
async function registeringGateway(at: SippServer): Promise<RunningGateway> {
  const transport = at.transport.startsWith('t') ? 'tcp' : 'udp';
  gw = await startInProcessGateway(
    callGatewayConfig(engine, undefined, {
      sip: {
        trunks: [
          {
            name: 'carrier',
            kind: 'pstn',
            sourceAddresses: ['127.0.0.1/32'],
            outbound: { host: '127.0.0.1', port: at.port, transport },
            registration: { username: USERNAME, password: PASSWORD, contactUser: CONTACT_USER },
          },
          // A trunk that does not register, beside it.
          { name: 'local', kind: 'pstn', sourceAddresses: ['127.0.0.2/32'] },
        ],
      },
    }),
    { registrationTiming: TIMING },
  );
  return gw;
}

async function registrationOf(running: RunningGateway, trunk = 'carrier'): Promise<any> {
  const response = await fetch(`${running.url}/v1/sip/trunks/${trunk}/registration`, {
    headers: bearer(KEYS.admin),
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** One message of sipp's -trace_msg log: which way it went, when, and the message. */
interface Logged {
  direction: 'received' | 'sent';
  at: number;
  message: SipText;
}

function messagesOf(result: SippResult): Logged[] {
  return result.messageLog.split(/^-{10,} /m).flatMap((block): Logged[] => {
    const head = /^(\S+\s+\S+)\s*\n\s*(?:UDP|TCP)\s+message\s+(received|sent)[^\n]*\n\n?/i.exec(block);
    if (!head?.[1] || !head[2]) return [];
    const raw = block.slice(head[0].length).replace(/\r?\n/g, '\r\n');
    const message = parseSip(raw);
    if (!message) return [];
    return [
      { direction: head[2] as Logged['direction'], at: Date.parse(head[1].replace(/\s+/, 'T')), message },
    ];
  });
}

function receivedRegisters(result: SippResult): Logged[] {
  return messagesOf(result).filter(
    (m) => m.direction === 'received' && m.message.startLine.startsWith('REGISTER '),
  );
}

const registersOf = (result: SippResult): SipText[] => receivedRegisters(result).map((m) => m.message);
const cseqOf = (m: SipText) => Number.parseInt(header(m, 'CSeq') ?? '', 10);

/** The sipp run a test waited for, which must have gone as its scenario says. */
async function finished(sipp: SippServer): Promise<SippResult> {
  const result = await sipp.exited;
  assertAllCallsSucceeded(result, 1);
  return result;
}

/** Every REGISTER was one registration: one Call-ID, CSeq one up each time, our AOR and Contact. */
function expectOneRegistration(result: SippResult, sipp: SippServer, transport: 'udp' | 'tcp'): SipText[] {
  const registers = registersOf(result);
  const context = formatSippResult(result);
  expect(registers.length, context).toBeGreaterThan(0);
  expect(new Set(registers.map((m) => header(m, 'Call-ID'))).size, context).toBe(1);
  const cseqs = registers.map(cseqOf);
  expect(cseqs, context).toEqual(cseqs.map((_, index) => (cseqs[0] ?? 0) + index));
  for (const register of registers) {
    expect(register.startLine).toBe(`REGISTER sip:127.0.0.1:${sipp.port};transport=${transport} SIP/2.0`);
    expect(header(register, 'From')).toMatch(new RegExp(`^<sip:${USERNAME}@127\\.0\\.0\\.1>;tag=`));
    expect(header(register, 'To')).toBe(`<sip:${USERNAME}@127.0.0.1>`);
    expect(header(register, 'Contact')).toBe(
      `<sip:${CONTACT_USER}@127.0.0.1:${engine.sipPort}${transport === 'udp' ? '' : ';transport=tcp'}>`,
    );
    expect(JSON.stringify(register)).not.toContain(PASSWORD);
  }
  return registers;
}

const series = (name: string, labels: string) => `gateway_sip_registration_${name}{${labels}}`;

/** The digest response a registrar computes for these credentials (RFC 7616 §3.4.1), with node:crypto. */
function expectedDigest(fields: Record<string, string>): string {
  const algorithm = fields.algorithm ?? 'MD5';
  const H = (text: string) =>
    createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5')
      .update(text)
      .digest('hex');
  const ha1 = H(`${fields.username}:${fields.realm}:${PASSWORD}`);
  const ha2 = H(`REGISTER:${fields.uri}`);
  return H(`${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:${fields.qop}:${ha2}`);
}

describe.each(servers)(
  'trunk registration against sipp as the registrar, through %s',
  (_server, startServer) => {
    beforeAll(async () => {
      engine = await startServer();
    });
    afterAll(async () => {
      await engine?.stop();
    });

    it('registers, takes the granted expiry and refreshes before it runs out, in the same registration', async () => {
      const sipp = await startRegistrar('registrar-refresh', 'u1', { granted: 2, regranted: 3600 });
      const running = await registeringGateway(sipp);
      // sipp ends its scenario when the refresh has come and been answered.
      const result = await finished(sipp);
      const registers = expectOneRegistration(result, sipp, 'udp');
      expect(registers.map((m) => header(m, 'Expires'))).toEqual(['3600', '3600']);
      // The refresh came before the 2 s granted (by the first 200's Contact expires) had run out.
      const log = messagesOf(result);
      const granted = log.find((m) => m.direction === 'sent')?.at ?? 0;
      const refresh = receivedRegisters(result)[1]?.at ?? 0;
      expect(refresh - granted, formatSippResult(result)).toBeLessThan(2_000);

      // The second grant (an Expires header) is the binding now.
      const state = await registrationOf(running);
      expect(state).toMatchObject({ trunk: 'carrier', state: 'registered', lastError: null });
      const left = Date.parse(state.expiresAt) - Date.now();
      expect(left).toBeGreaterThan(3_500_000);
      expect(left).toBeLessThanOrEqual(3_600_000);
      expect(Date.parse(state.nextAttemptAt) - Date.now()).toBeGreaterThan(1_700_000);
      expect(await metricValue(running, series('up', 'trunk="carrier"'))).toBe(1);
      expect(
        await metricValue(running, series('attempts_total', 'trunk="carrier",result="registered"')),
      ).toBe(2);
      const ready: any = await (await fetch(`${running.url}/readyz`)).json();
      expect(ready.parts.registration).toEqual({ ok: true, advisory: true });
    });

    it('answers a 401 MD5 qop=auth challenge over TCP with an Authorization sipp verifies', async () => {
      const sipp = await startRegistrar('registrar-auth-md5', 't1', { user: USERNAME, pass: PASSWORD });
      const running = await registeringGateway(sipp);
      const result = await finished(sipp);
      const [challenged, answered, ...more] = expectOneRegistration(result, sipp, 'tcp');
      expect(more).toEqual([]);
      expect(challenged && header(challenged, 'Authorization')).toBeUndefined();
      const fields = parseDigestHeader(answered && header(answered, 'Authorization')) ?? {};
      expect(fields).toMatchObject({
        username: USERNAME,
        realm: 'registrar.test',
        uri: `sip:127.0.0.1:${sipp.port};transport=tcp`,
        algorithm: 'MD5',
        qop: 'auth',
        nc: '00000001',
        opaque: 'registrar-opaque',
      });
      expect(fields.response).toBe(expectedDigest(fields));
      await until(async () => (await registrationOf(running)).state === 'registered');
      expect(
        await metricValue(running, series('attempts_total', 'trunk="carrier",result="challenged"')),
      ).toBe(1);
    });

    it('answers a 407 SHA-256 Proxy-Authenticate challenge with a Proxy-Authorization', async () => {
      const sipp = await startRegistrar('registrar-auth-proxy', 'u1');
      const running = await registeringGateway(sipp);
      const result = await finished(sipp);
      const [, answered] = expectOneRegistration(result, sipp, 'udp');
      const fields = parseDigestHeader(answered && header(answered, 'Proxy-Authorization')) ?? {};
      expect(fields, formatSippResult(result)).toMatchObject({
        username: USERNAME,
        realm: 'proxy.test',
        algorithm: 'SHA-256',
        qop: 'auth',
        opaque: 'proxy-opaque',
      });
      expect(fields.response).toMatch(/^[0-9a-f]{64}$/);
      expect(fields.response).toBe(expectedDigest(fields));
      await until(async () => (await registrationOf(running)).state === 'registered');
    });

    it('reports a 403 as failed with its lastError, and retries with growing delays until taken', async () => {
      const sipp = await startRegistrar('registrar-forbidden', 'u1');
      const running = await registeringGateway(sipp);
      let failed: any;
      await until(async () => {
        failed = await registrationOf(running);
        return failed.state === 'failed';
      });
      expect(failed).toMatchObject({ lastError: '403 Forbidden', expiresAt: null });
      expect(failed.nextAttemptAt).not.toBeNull();
      expect(await metricValue(running, series('up', 'trunk="carrier"'))).toBe(0);
      // Shown in readiness, and not what decides it (advisory).
      const ready: any = await (await fetch(`${running.url}/readyz`)).json();
      expect(ready.parts.registration).toMatchObject({ ok: false, advisory: true });
      expect(ready.parts.registration.detail).toContain('trunk carrier: failed (403 Forbidden)');

      const result = await finished(sipp);
      expectOneRegistration(result, sipp, 'udp');
      // Retried after the first delay (500 ms, less up to 20 % jitter), then after twice that.
      const log = messagesOf(result);
      const gaps = log.flatMap((entry, index) => {
        const next = log[index + 1];
        return entry.direction === 'sent' && entry.message.startLine.startsWith('SIP/2.0 403') && next
          ? [next.at - entry.at]
          : [];
      });
      expect(gaps, formatSippResult(result)).toHaveLength(2);
      expect(gaps[0]).toBeGreaterThanOrEqual(390);
      expect(gaps[1]).toBeGreaterThanOrEqual(790);
      expect(gaps[1]).toBeGreaterThan(gaps[0] ?? 0);

      await until(async () => (await registrationOf(running)).state === 'registered');
      expect(await registrationOf(running)).toMatchObject({ lastError: null });
      expect(await metricValue(running, series('up', 'trunk="carrier"'))).toBe(1);
      expect(await metricValue(running, series('attempts_total', 'trunk="carrier",result="rejected"'))).toBe(
        2,
      );
    });

    it('reports an unanswered REGISTER as failed, and retries it', async () => {
      const sipp = await startRegistrar('registrar-unanswered', 't1');
      const running = await registeringGateway(sipp);
      let failed: any;
      await until(async () => {
        failed = await registrationOf(running);
        return failed.state === 'failed';
      });
      expect(failed).toMatchObject({ lastError: 'no response within 1500 ms' });
      const result = await finished(sipp);
      expect(expectOneRegistration(result, sipp, 'tcp')).toHaveLength(2);
      await until(async () => (await registrationOf(running)).state === 'registered');
      expect(await metricValue(running, series('attempts_total', 'trunk="carrier",result="timeout"'))).toBe(
        1,
      );
    });

    it('asks for Min-Expires after a 423, and un-REGISTERs (Expires: 0) when the gateway stops', async () => {
      const sipp = await startRegistrar('registrar-unregister', 'u1', { min: 7200 });
      const running = await registeringGateway(sipp);
      await until(async () => (await registrationOf(running)).state === 'registered');
      const state = await registrationOf(running);
      expect(Date.parse(state.expiresAt) - Date.now()).toBeGreaterThan(7_100_000);
      expect(
        await metricValue(running, series('attempts_total', 'trunk="carrier",result="interval_too_brief"')),
      ).toBe(1);

      const stopping = Date.now();
      await running.stop();
      gw = undefined;
      // Within the gateway's stop, bounded by the un-REGISTER timeout whatever the registrar does.
      expect(Date.now() - stopping).toBeLessThan(10_000);
      const result = await finished(sipp);
      const registers = expectOneRegistration(result, sipp, 'udp');
      expect(registers.map((m) => header(m, 'Expires'))).toEqual(['3600', '7200', '0']);
    });

    it('answers 404 for a trunk that does not register, and for one that does not exist', async () => {
      const sipp = await startRegistrar('registrar-refresh', 'u1', { granted: 3600, regranted: 3600 });
      const running = await registeringGateway(sipp);
      const missing = await fetch(`${running.url}/v1/sip/trunks/nope/registration`, {
        headers: bearer(KEYS.admin),
      });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as any).error.code).toBe('trunk_not_found');
      const plain = await fetch(`${running.url}/v1/sip/trunks/local/registration`, {
        headers: bearer(KEYS.admin),
      });
      expect(plain.status).toBe(404);
      expect(((await plain.json()) as any).error.code).toBe('registration_not_configured');
      const malformed = await fetch(`${running.url}/v1/sip/trunks/Not%20A%20Trunk/registration`, {
        headers: bearer(KEYS.admin),
      });
      expect(malformed.status).toBe(400);
      const app = await fetch(`${running.url}/v1/sip/trunks/carrier/registration`, {
        headers: bearer(KEYS.app),
      });
      expect(app.status).toBe(403);
      const body = await registrationOf(running);
      expect(JSON.stringify(body)).not.toContain(PASSWORD);
    });
  },
);
