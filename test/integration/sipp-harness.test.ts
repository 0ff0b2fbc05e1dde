import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  assertAllCallsSucceeded,
  formatSippResult,
  killAllSipp,
  runSipp,
  SCENARIO_DIR,
  type SippResult,
  type SippRunOptions,
  type SippServerOptions,
  SippStartError,
  SippTimeoutError,
  type SippTransport,
  startSippServer,
} from '../support/sipp.js';

/**
 * Proves the sipp harness and every scenario in test/scenarios by running sipp against sipp over
 * loopback: each UAC scenario against the UAS scenario written as its counterpart, over UDP and
 * TCP, plus runs that must fail, so a harness that cannot report failure cannot pass.
 * Tests run concurrently: each one has its own ports, and most wait on sipp more than on the CPU.
 */

afterAll(killAllSipp);

interface PairResult {
  client: SippResult;
  server: SippResult;
}

/**
 * Starts the UAS scenario, runs the UAC scenario against it on the same transport, then stops the
 * UAS gracefully (its open calls finish first) and returns both results.
 */
async function pair(
  transport: SippTransport,
  uas: Omit<SippServerOptions, 'transport'>,
  uac: Omit<SippRunOptions, 'transport' | 'target'>,
): Promise<PairResult> {
  const server = await startSippServer({ calls: 1, ...uas, transport });
  try {
    const client = await runSipp({ ...uac, transport, target: server.address });
    return { client, server: await server.stop() };
  } finally {
    await server.stop({ graceful: false });
  }
}

/** Both sides completed every call: the assertion messages carry sipp's logs when they did not. */
function expectBothSucceeded({ client, server }: PairResult, calls = 1): void {
  assertAllCallsSucceeded(client, calls);
  assertAllCallsSucceeded(server, calls);
}

const BOTH: SippTransport[] = ['u1', 't1'];

describe.concurrent('sipp harness over loopback', () => {
  test('built-in uac places 20 calls on built-in uas over UDP', async () => {
    const result = await pair('u1', { scenario: 'uas', calls: 20 }, { scenario: 'uac', calls: 20, rate: 50 });
    expectBothSucceeded(result, 20);
    expect(result.client.stats['OutgoingCall(C)']).toBe('20');
    expect(result.server.stats['IncomingCall(C)']).toBe('20');
  });

  test('built-in uac places 20 calls on built-in uas over TCP', async () => {
    const { client, server } = await pair(
      't1',
      { scenario: 'uas', calls: 20 },
      { scenario: 'uac', calls: 20, rate: 50 },
    );
    assertAllCallsSucceeded(client, 20);
    // The uac closes its connection as it exits; a uas call that has answered the last BYE but
    // not yet entered its <timewait> then counts as FailedTcpClosed. Only its arrivals are certain.
    expect(server.stats['IncomingCall(C)'], formatSippResult(server)).toBe('20');
  });

  test.for([
    ['u1', 486],
    ['t1', 603],
    ['u1', 480],
    ['t1', 408],
  ] as const)('uac-expect-final gets the %s final %i it expects', async ([transport, code]) => {
    const result = await pair(
      transport,
      { scenario: `uas-final-${code}` },
      { scenario: 'uac-expect-final', keys: { expected: code } },
    );
    expectBothSucceeded(result);
  });

  test('uac-expect-final fails, and the harness says so, when another final comes', async () => {
    const { client, server } = await pair(
      'u1',
      { scenario: 'uas-final-486' },
      { scenario: 'uac-expect-final', keys: { expected: 603 } },
    );
    expect(client.exitCode, formatSippResult(client)).toBe(1);
    expect(client.successfulCalls).toBe(0);
    expect(client.failedCalls).toBe(1);
    expect(client.failures).toEqual({ FailedStrcmpDoesntMatch: 1 });
    expect(client.stderr).toContain('strcmp got:"486" and want:"603"');
    // The mismatch is still ACKed, so the far end completes its call.
    assertAllCallsSucceeded(server, 1);
  });

  test.for([
    ['uac-cancel', 'u1'],
    ['uac-cancel', 't1'],
    ['uac-cancel-early', 'u1'],
    ['uac-cancel-early', 't1'],
  ] as const)('%s over %s: CANCEL gets 200 and the INVITE 487', async ([scenario, transport]) => {
    const result = await pair(transport, { scenario: 'uas-ring-wait-cancel' }, { scenario, pauseMs: 50 });
    expectBothSucceeded(result);
    expect(result.client.messageLog).toContain('SIP/2.0 487 Request Terminated');
  });

  test.for(BOTH)('uac-hold-resume re-INVITEs sendonly then sendrecv over %s', async (transport) => {
    const result = await pair(transport, { scenario: 'uas-answer-hold' }, { scenario: 'uac-hold-resume' });
    expectBothSucceeded(result);
    expect(result.server.actionLog).toContain('hold offer: a=sendonly');
  });

  test('uas-answer-hold fails a call whose first re-INVITE does not hold', async () => {
    // uac-hold-resume with its hold offer turned into a second sendrecv one.
    const dir = await mkdtemp(join(tmpdir(), 'sipp-scenario-'));
    try {
      const noHold = join(dir, 'uac-no-hold.xml');
      const original = await readFile(join(SCENARIO_DIR, 'uac-hold-resume.xml'), 'utf8');
      await writeFile(noHold, original.replaceAll('a=sendonly', 'a=sendrecv'));
      const { client, server } = await pair('u1', { scenario: 'uas-answer-hold' }, { scenario: noHold });
      // A failed check marks the call failed but lets it run to its end.
      assertAllCallsSucceeded(client, 1);
      expect(server.failedCalls, formatSippResult(server)).toBe(1);
      expect(server.failures).toEqual({ FailedRegexpDoesntMatch: 1 });
      expect(server.stderr).toContain('Failed regexp match');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test.for(BOTH)('uac-info sends a DTMF INFO in the dialog over %s', async (transport) => {
    const result = await pair(transport, { scenario: 'uas-info' }, { scenario: 'uac-info' });
    expectBothSucceeded(result);
    expect(result.server.actionLog).toContain('INFO application/dtmf-relay: digit 5');
  });

  test.for(BOTH)('uac-options gets 200 from uas-options over %s', async (transport) => {
    expectBothSucceeded(await pair(transport, { scenario: 'uas-options' }, { scenario: 'uac-options' }));
  });

  test('uac-options-final passes on the expected code and fails on another', async () => {
    const good = await pair(
      'u1',
      { scenario: 'uas-options' },
      { scenario: 'uac-options-final', keys: { expected: 200 } },
    );
    expectBothSucceeded(good);
    const bad = await pair(
      'u1',
      { scenario: 'uas-options' },
      { scenario: 'uac-options-final', keys: { expected: 404 } },
    );
    expect(bad.client.exitCode).toBe(1);
    expect(bad.client.failures).toEqual({ FailedStrcmpDoesntMatch: 1 });
  });

  test.for(BOTH)('uac-unknown-dialog gets 481 for INFO and BYE over %s', async (transport) => {
    const result = await pair(transport, { scenario: 'uas-no-dialog' }, { scenario: 'uac-unknown-dialog' });
    expectBothSucceeded(result);
  });

  test.for(BOTH)('uac-wait-bye answers the BYE of uas-bye over %s', async (transport) => {
    const result = await pair(transport, { scenario: 'uas-bye', pauseMs: 100 }, { scenario: 'uac-wait-bye' });
    expectBothSucceeded(result);
    expect(result.client.messageLog).toMatch(
      /received[^\n]*\n\s*BYE sip:sipp@127\.0\.0\.1:\d+;transport=(UDP|TCP)/,
    );
  });

  test.for(BOTH)('uac-auth answers the 407 of uas-auth over %s', async (transport) => {
    const result = await pair(
      transport,
      { scenario: 'uas-auth', keys: { user: 'alice' } },
      { scenario: 'uac-auth', authUser: 'alice', authPassword: 's3cret' },
    );
    expectBothSucceeded(result);
    expect(result.client.messageLog).toMatch(/Proxy-Authorization: Digest username="alice"/);
  });

  test('uas-auth fails a call that presents another username', async () => {
    const { server } = await pair(
      'u1',
      { scenario: 'uas-auth', keys: { user: 'alice' } },
      { scenario: 'uac-auth', authUser: 'mallory', authPassword: 's3cret' },
    );
    expect(server.failures).toEqual({ FailedStrcmpDoesntMatch: 1 });
  });

  test('uac-auth answers the 401 of uas-auth-www, whose verifyauth checks the digest', async () => {
    const good = await pair(
      'u1',
      { scenario: 'uas-auth-www', keys: { user: 'alice', pass: 's3cret' } },
      { scenario: 'uac-auth', authUser: 'alice', authPassword: 's3cret' },
    );
    expectBothSucceeded(good);
    const bad = await pair(
      'u1',
      { scenario: 'uas-auth-www', keys: { user: 'alice', pass: 's3cret' } },
      { scenario: 'uac-auth', authUser: 'alice', authPassword: 'wrong' },
    );
    expect(bad.client.messageLog).toContain('SIP/2.0 403 Forbidden');
    expect(bad.client.failedCalls).toBe(1);
    expect(bad.server.failedCalls).toBe(1);
  });

  test('built-in uac cannot answer a challenge, even with -au/-ap', async () => {
    const { client } = await pair(
      'u1',
      { scenario: 'uas-auth', keys: { user: 'alice' } },
      { scenario: 'uac', authUser: 'alice', authPassword: 's3cret' },
    );
    expect(client.failures).toEqual({ FailedUnexpectedMessage: 1 });
  });

  test('calls complete over UDP when sipp drops 10% of its packets (-lost 10)', async () => {
    // sipp's built-in uas aborts a call whose INVITE comes again after its 200 (the caller lost
    // the 200), and the aborted call then ignores every retransmission: uas-lossy answers again.
    // Loss on one side only: with both sides dropping, a sipp uas can stall a call for Timer B.
    const server = await startSippServer({ scenario: 'uas-lossy', transport: 'u1' });
    try {
      const client = await runSipp({
        scenario: 'uac',
        transport: 'u1',
        target: server.address,
        calls: 10,
        rate: 50,
        lossPercent: 10,
      });
      assertAllCallsSucceeded(client, 10);
      expect(client.command).toEqual(expect.arrayContaining(['-lost', '10']));
    } finally {
      // Its calls wait 16 s after their BYE for a repeated one: stopped now, they count neither
      // way. None may have failed.
      const result = await server.stop({ graceful: false });
      expect(Number(result.stats['IncomingCall(C)']), formatSippResult(result)).toBeGreaterThanOrEqual(10);
      expect(result.failedCalls, formatSippResult(result)).toBe(0);
    }
  });

  test('uac_pcap plays g711a.pcap from the linked pcap folder', async () => {
    const result = await pair('u1', { scenario: 'uas' }, { scenario: 'uac_pcap' });
    expectBothSucceeded(result);
  });

  test('a server started with `calls` exits by itself once they are done', async () => {
    const server = await startSippServer({ scenario: 'uas-options', calls: 2 });
    const client = await runSipp({ scenario: 'uac-options', target: server.address, calls: 2, rate: 20 });
    assertAllCallsSucceeded(client, 2);
    const result = await server.exited;
    assertAllCallsSucceeded(result, 2);
    expect(result.stdout).toContain('Test Terminated');
    // Stopping it afterwards only hands back the same result.
    expect(await server.stop()).toBe(result);
  });

  test('a hung peer: the hard timeout kills sipp and rejects with its logs', async () => {
    // A UDP socket that swallows everything: sipp would retransmit its INVITE for 32 s.
    const sink = createSocket('udp4');
    sink.bind(0, '127.0.0.1');
    await once(sink, 'listening');
    try {
      const run = runSipp({
        scenario: 'uac',
        target: { host: '127.0.0.1', port: sink.address().port },
        hardTimeoutMs: 1500,
      });
      const error = await run.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(SippTimeoutError);
      const { result } = error as SippTimeoutError;
      expect(result.durationMs).toBeLessThan(5_000);
      expect(result.messageLog).toContain('INVITE sip:service@127.0.0.1');
      expect((error as Error).message).toContain('hard timeout of 1500 ms');
      // SIGTERM lets sipp write its final row: the call was still open.
      expect(result.stats.CurrentCall).toBe('1');
      expect(() => process.kill(result.pid, 0)).toThrow(/ESRCH/);
    } finally {
      sink.close();
    }
  });

  test('a server that cannot start rejects with the reason', async () => {
    // uas-auth needs -key user.
    const error = await startSippServer({ scenario: 'uas-auth' }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(SippStartError);
    expect((error as SippStartError).result.stderr).toContain("Unsupported keyword 'user'");
  });

  test('a server whose port is taken rejects with sipp exit code 254', async () => {
    // Not another sipp: sipp sets SO_REUSEADDR, so two of them can share a UDP port.
    const holder = createSocket('udp4');
    holder.bind(0, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const error = await startSippServer({ scenario: 'uas', localPort: holder.address().port }).catch(
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(SippStartError);
      expect((error as SippStartError).result.exitCode).toBe(254);
      expect((error as SippStartError).result.stderr).toContain('Address already in use');
    } finally {
      holder.close();
    }
  });
});
