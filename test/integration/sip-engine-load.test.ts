/**
 * 200 concurrent sipp calls through the embedded engine process to an srf UAS, then proof that
 * nothing leaked: transactions, dialogs, pending app commands and connections all return to zero
 * once the RFC 3261 timers that keep transactions around (64*T1 = 32 s over UDP) have run.
 */
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { connectSrf, type SrfApp, uasApp, waitForApps } from './sipEngineRig.js';

const SETTLED = [
  'transactions',
  'dialogs',
  'connections',
  'pending_app_commands',
  'pending_server_requests',
  'pending_client_requests',
];

describe('embedded SIP engine under 200 concurrent calls', () => {
  let engine: SipEngineProcess;
  let srf: SrfApp;
  const stats = new EventEmitter() as EventEmitter & { answered?: number; ended?: number };

  beforeAll(async () => {
    engine = await startSipEngine();
    srf = await connectSrf(engine, uasApp(stats));
    await waitForApps(engine, 1);
  });
  afterAll(async () => {
    srf.disconnect();
    expect(await engine.stop()).toBe(0);
  });

  it.each(['t1', 'u1'] as const)(
    'completes 200 simultaneous calls over %s and leaks nothing',
    async (transport) => {
      const answered = stats.answered ?? 0;
      const ended = stats.ended ?? 0;
      // 200 calls started within a second, each held 2 s: all 200 are up at the same time.
      const result = await runSipp({
        scenario: 'uac',
        transport,
        target: { host: '127.0.0.1', port: engine.sipPort },
        calls: 200,
        rate: 200,
        maxConcurrent: 200,
        pauseMs: 2000,
        traceMessages: false,
        hardTimeoutMs: 60_000,
      });
      assertAllCallsSucceeded(result, 200);
      expect((stats.answered ?? 0) - answered).toBe(200);
      expect((stats.ended ?? 0) - ended).toBe(200);
      const settled = await engine.waitForCounts((c) => SETTLED.every((k) => c[k] === 0), 60_000);
      for (const k of SETTLED) expect([k, settled[k]]).toEqual([k, 0]);
      expect(settled.apps).toBe(1);
    },
    120_000,
  );
});
