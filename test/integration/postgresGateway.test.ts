import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, STATUS_EVENTS } from '../../src/calls/callTypes.js';
import {
  api,
  callGatewayConfig,
  callsOf,
  callWhen,
  ROUTED_NUMBER,
  theRingingCall,
  until,
} from '../support/gatewayApi.js';
import { GatewayProcess } from '../support/gatewayProcess.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import {
  type PostgresServer,
  postgresServerMissing,
  startPostgresServer,
} from '../support/postgresServer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { AUTH_KEYS, bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * A whole gateway on PostgreSQL (`store.kind: postgres`) over real sockets: sipp calls through the
 * embedded SIP server, the HTTP API, and the event outbox read straight from the database. Each
 * test has a database of its own on one throwaway server; gateways that share a test share it.
 */
const missing = postgresServerMissing();
if (missing) console.warn(missing);

const FINAL_EVENTS = new Set(FINAL_STATUSES.map((status) => STATUS_EVENTS[status]));

interface OutboxRow {
  seq: number;
  event: string;
  status: string;
}

describe.skipIf(missing !== undefined)('a gateway on PostgreSQL', () => {
  let server: PostgresServer;
  let engine: SipEngineProcess;
  let rig: LiveKitRig;
  let databases = 0;
  /** What a test started, stopped after it whatever happened. */
  const running: RunningGateway[] = [];
  const processes: GatewayProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    [server, engine, rig] = await Promise.all([startPostgresServer(), startSipEngine(), startLiveKit()]);
  });
  afterAll(async () => {
    await engine?.stop();
    await rig?.server.stop();
    await server?.stop();
  });
  afterEach(async () => {
    for (const gw of running.splice(0).reverse()) await gw.stop();
    for (const child of processes.splice(0)) {
      child.kill('SIGKILL');
      await child.exited;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh database on the server; its URL. */
  async function freshDatabase(): Promise<string> {
    const name = `gateway_it_${process.pid}_${++databases}`;
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const target = new URL(server.url);
    target.pathname = `/${name}`;
    return target.toString();
  }

  /** The call's rows in event_outbox, in seq order, read with pg (not through the gateway). */
  async function outboxOf(url: string, callId: string): Promise<OutboxRow[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ seq: string; event: string; payload: string }>(
        'SELECT seq, event, payload FROM event_outbox WHERE call_id = $1 ORDER BY seq',
        [callId],
      );
      return rows.map((row) => ({
        seq: Number(row.seq),
        event: row.event,
        status: (JSON.parse(row.payload) as { call: { status: string } }).call.status,
      }));
    } finally {
      await client.end();
    }
  }

  /** Polls the outbox until the call's final event is in it (events commit with the call's row). */
  async function settledOutbox(url: string, callId: string): Promise<OutboxRow[]> {
    let rows: OutboxRow[] = [];
    await until(async () => {
      rows = await outboxOf(url, callId);
      return rows.some((row) => FINAL_EVENTS.has(row.event));
    });
    return rows;
  }

  /** An in-process gateway on `url` taking calls through the SIP server, ready for them. */
  async function gatewayOn(url: string, withSip = true): Promise<RunningGateway> {
    const store = { store: { kind: 'postgres', url } };
    const gw = await startInProcessGateway(
      withSip ? callGatewayConfig(engine, rig, { ...store, sip: { ringTimeoutSeconds: 30 } }) : store,
      // Without a SIP server it retries the default one (warnings every few hundred ms): errors only.
      { logger: pino({ level: withSip ? 'warn' : 'error' }) },
    );
    running.push(gw);
    if (withSip) {
      await until(async () => ((await api(gw, '/readyz')) as any).parts.sip.ok === true);
    }
    return gw;
  }

  function caller(scenario: 'uac-expect-final' | 'uac-wait-bye', expected?: number) {
    return runSipp({
      scenario,
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      ...(expected !== undefined ? { keys: { expected } } : {}),
      calls: 1,
      recvTimeoutMs: 60_000,
    });
  }
  const expectFinal = (expected: number) => caller('uac-expect-final', expected);

  it('takes an inbound call, rejects it through the actions API, and records its events in order', async () => {
    const url = await freshDatabase();
    const gw = await gatewayOn(url);
    const sipp = expectFinal(486);
    const ringing = await theRingingCall(gw);
    expect(ringing).toMatchObject({ direction: 'inbound', status: 'ringing', toAddress: ROUTED_NUMBER });

    const rejected = await api(gw, `/v1/calls/${ringing.id}/actions`, {
      method: 'POST',
      body: JSON.stringify({ action: 'reject', code: 486 }),
    });
    expect(rejected).toMatchObject({ id: ringing.id, status: 'busy', endReason: 'busy', sipStatus: 486 });
    assertAllCallsSucceeded(await sipp, 1);

    const ended = await api(gw, `/v1/calls/${ringing.id}`);
    expect(ended).toMatchObject({
      id: ringing.id,
      direction: 'inbound',
      status: 'busy',
      endReason: 'busy',
      sipStatus: 486,
      toAddress: ROUTED_NUMBER,
      fromAddress: 'sipp',
      answeredAt: null,
    });
    expect(ended.endedAt).toEqual(expect.any(String));
    const listed = await callsOf(gw);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: ringing.id, status: 'busy', endReason: 'busy' });

    const events = await settledOutbox(url, ringing.id);
    expect(events.map((e) => [e.event, e.status])).toEqual([
      ['calls.initiated', 'initiated'],
      ['calls.ringing', 'ringing'],
      ['calls.busy', 'busy'],
    ]);
    expect(events.filter((e) => FINAL_EVENTS.has(e.event))).toHaveLength(1);
  });

  it.each([
    {
      left: 'ringing',
      // The embedded SIP server answers the caller 480 itself once the gateway's connection drops.
      scenario: 'uac-expect-final' as const,
      expected: 480,
      final: 'failed',
      before: ['calls.initiated', 'calls.ringing'],
    },
    {
      left: 'answered',
      // sipp's call succeeds only once a BYE in its dialog arrived: the next gateway sends it.
      scenario: 'uac-wait-bye' as const,
      expected: undefined,
      final: 'completed',
      before: ['calls.initiated', 'calls.ringing', 'calls.answered'],
    },
  ])(
    'ends a call left $left by a killed gateway process when the next gateway opens the database',
    async ({ left, scenario, expected, final, before }) => {
      const url = await freshDatabase();
      const dir = mkdtempSync(join(tmpdir(), 'postgres-gateway-'));
      dirs.push(dir);
      const configFile = join(dir, 'gateway.yaml');
      writeFileSync(
        configFile,
        JSON.stringify({
          ...callGatewayConfig(engine, rig, { sip: { ringTimeoutSeconds: 30 } }),
          http: { port: 0 },
          log: { level: 'info', format: 'json' },
          store: { kind: 'postgres', url, path: join(dir, 'unused.db') },
          recording: { dir: join(dir, 'recordings') },
          auth: { keys: AUTH_KEYS },
          media: { workers: 1 },
        }),
      );
      const first = new GatewayProcess(['--config', configFile]);
      processes.push(first);
      const firstUrl = await first.ready();
      const firstApi = async (path: string, init: RequestInit = {}) =>
        (await fetch(`${firstUrl}${path}`, { ...init, headers: bearer(KEYS.admin) })).json() as Promise<any>;
      await until(async () => (await firstApi('/readyz')).parts.sip.ok === true, 30_000);
      const theCall = async (status: string) => {
        let found: any[] = [];
        await until(async () => {
          found = (await firstApi(`/v1/calls?appId=${TEST_APP_ID}&status=${status}`)).data;
          return found.length === 1;
        }, 30_000);
        return found[0];
      };

      const sipp = caller(scenario, expected);
      let live = await theCall('ringing');
      if (left === 'answered') {
        await firstApi(`/v1/calls/${live.id}/actions`, { method: 'POST', body: '{"action":"accept"}' });
        live = await theCall('in_progress');
      }
      first.kill('SIGKILL');
      const killedAt = Date.now();
      await first.exited;
      if (left === 'ringing') assertAllCallsSucceeded(await sipp, 1);
      // Nothing ended it: the database still holds it live.
      expect((await outboxOf(url, live.id)).map((e) => e.event)).toEqual(before);

      const second = await gatewayOn(url);
      if (left === 'answered') assertAllCallsSucceeded(await sipp, 1);
      const ended = await callWhen(second, live.id, (call) => call.endedAt !== null);
      expect(ended).toMatchObject({ status: final, endReason: 'gateway_restart' });
      // The heartbeat is written every second: the call ends within about that of the kill.
      expect(Date.parse(ended.endedAt)).toBeLessThanOrEqual(killedAt + 1500);
      expect(await callsOf(second, 'ringing')).toEqual([]);
      expect(await callsOf(second, 'in_progress')).toEqual([]);

      const events = await settledOutbox(url, live.id);
      expect(events.map((e) => e.event)).toEqual([...before, STATUS_EVENTS[final as 'failed' | 'completed']]);
      expect(events.at(-1)?.status).toBe(final);
      expect(events.filter((e) => FINAL_EVENTS.has(e.event))).toHaveLength(1);
    },
  );

  it('shares an app calling configuration between gateways on the same database', async () => {
    const url = await freshDatabase();
    const path = `/v1/organization/apps/${TEST_APP_ID}/calling`;
    const first = await gatewayOn(url, false);
    const put = await fetch(`${first.url}${path}`, {
      method: 'PUT',
      headers: { ...bearer(KEYS.admin), 'content-type': 'application/json' },
      body: JSON.stringify({ voicemailEnabled: true, maxConcurrentCalls: 7, recordingFormat: 'ogg' }),
    });
    expect(put.status).toBe(200);
    const stored = (await put.json()) as any;
    expect(stored).toMatchObject({ appId: TEST_APP_ID, voicemailEnabled: true, maxConcurrentCalls: 7 });

    // A second gateway (its own temp dir, so nothing but the database in common) sees it.
    const second = await gatewayOn(url, false);
    expect(await api(second, path)).toEqual(stored);

    // And the other way round, while both run: no copy of it is kept per gateway.
    const updated = await api(second, path, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ maxConcurrentCalls: 9 }),
    });
    expect(updated).toMatchObject({ id: stored.id, maxConcurrentCalls: 9, voicemailEnabled: true });
    expect(await api(first, path)).toEqual(updated);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    expect(await api(second, path)).toEqual(updated);
  });
});
