import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { FINAL_STATUSES, STATUS_EVENTS } from '../../src/calls/callTypes.js';
import { freeTcpPort } from '../../src/launcher/freePorts.js';
import { CONTROL_TOKEN, ControlPlane } from '../support/controlPlane.js';
import { callGatewayConfig, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { GatewayProcess } from '../support/gatewayProcess.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import {
  type PostgresServer,
  postgresServerMissing,
  startPostgresServer,
} from '../support/postgresServer.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../support/redisServer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, killAllSipp, runSipp, type SippResult } from '../support/sipp.js';
import { AUTH_KEYS, bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * Two gateway nodes as a cluster over real parts: one PostgreSQL (a fresh database per test), one
 * redis-server (a fresh key prefix per test), a control plane stand-in, and each node with its
 * own embedded SIP server. sipp callers ring the test app (defaultAnswerBehavior webhook: the
 * call rings until an action decides it), so no livekit-server is needed.
 *
 * - the app's maxConcurrentCalls holds across both nodes, and a slot freed on one is the other's;
 * - a command sent to the node that does not carry the call is forwarded to the one that does,
 *   and GET /v1/calls on either node lists both nodes' calls;
 * - kill -9 of a node (a child process): the survivor ends its ringing call with gateway_restart
 *   and delivers the call's last event under the dead node's gateway id, after the ones it sent.
 */
const missing = redisServerMissing() ?? postgresServerMissing();
if (missing) console.warn(missing);

const LEASE_MS = 1000;
const FINAL_EVENTS: ReadonlySet<string> = new Set(FINAL_STATUSES.map((status) => STATUS_EVENTS[status]));
const CALLING_PATH = `/v1/organization/apps/${TEST_APP_ID}/calling`;

/** One node's HTTP API (in process or a child process) and what it logged. */
interface Node {
  name: string;
  url: string;
  engine: SipEngineProcess;
  /** The in-process gateway; undefined for a child process. */
  gw?: RunningGateway;
  child?: GatewayProcess;
  logs(): string[];
}

interface Reply {
  status: number;
  json: any;
}

async function request(node: Node, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(`${node.url}${path}`, {
    ...init,
    headers: {
      ...bearer(KEYS.admin),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

async function callsOn(node: Node, status?: string): Promise<any[]> {
  const reply = await request(
    node,
    `/v1/calls?appId=${TEST_APP_ID}&limit=100${status ? `&status=${status}` : ''}`,
  );
  if (reply.status !== 200)
    throw new Error(`GET /v1/calls on ${node.name}: ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json.data;
}

const reject = (node: Node, callId: string, code = 486) =>
  request(node, `/v1/calls/${callId}/actions`, {
    method: 'POST',
    body: JSON.stringify({ action: 'reject', code }),
  });

/** A pino logger at warn whose lines the test can print when it fails. */
function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

describe.skipIf(missing !== undefined)('two gateway nodes in a cluster', () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let plane: ControlPlane;
  let engines: [SipEngineProcess, SipEngineProcess];
  let databases = 0;
  let prefixes = 0;
  const nodes: Node[] = [];
  /** This test's nodes, kept past afterEach (which stops them) for the failure report. */
  let tested: Node[] = [];
  const dirs: string[] = [];
  /** sipp runs a test started; awaited (or killed) after it. */
  const callers: Promise<SippResult>[] = [];

  beforeAll(async () => {
    [postgres, redis, plane] = await Promise.all([
      startPostgresServer(),
      startRedisServer(),
      ControlPlane.start(),
    ]);
    // One after the other: they pick free ports, and two pickers at once can be handed the same one.
    const first = await startSipEngine();
    engines = [first, await startSipEngine()];
  });
  afterAll(async () => {
    for (const engine of engines ?? []) await engine.stop();
    await plane?.stop();
    await redis?.dispose();
    await postgres?.stop();
  });
  beforeEach(() => {
    tested = [];
  });
  afterEach(async () => {
    for (const node of nodes.splice(0).reverse()) {
      if (node.gw) await node.gw.stop();
      if (node.child) {
        node.child.kill('SIGKILL');
        await node.child.exited;
      }
    }
    killAllSipp();
    await Promise.allSettled(callers.splice(0));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh database on the server, and a fresh Redis key prefix: what one cluster shares. */
  async function freshCluster(): Promise<{ url: string; keyPrefix: string }> {
    const name = `gateway_cluster_${process.pid}_${++databases}`;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const target = new URL(postgres.url);
    target.pathname = `/${name}`;
    return { url: target.toString(), keyPrefix: `c${++prefixes}x${process.pid}` };
  }

  /** A node's config: its SIP server, the shared store and Redis, its own fixed HTTP port. */
  async function nodeConfig(
    name: string,
    engine: SipEngineProcess,
    cluster: { url: string; keyPrefix: string },
  ): Promise<{ config: Record<string, unknown>; url: string }> {
    const port = await freeTcpPort();
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      config: {
        ...callGatewayConfig(engine, undefined, { sip: { ringTimeoutSeconds: 120 } }),
        http: { port },
        store: { kind: 'postgres', url: cluster.url },
        cluster: {
          redisUrl: redis.url,
          nodeId: `node-${name}`,
          internalUrl: url,
          leaseMs: LEASE_MS,
          keyPrefix: cluster.keyPrefix,
        },
        control: { url: plane.url, token: CONTROL_TOKEN, reconnectMinMs: 20, reconnectMaxMs: 200 },
      },
    };
  }

  /** The gateway id of the first hello the control plane gets after `after` messages. */
  async function helloAfter(after: number): Promise<string> {
    const hello = await plane.nextMessage('hello', after, 15_000);
    return hello.gatewayId as string;
  }

  async function inProcessNode(
    name: string,
    engine: SipEngineProcess,
    cluster: { url: string; keyPrefix: string },
  ): Promise<Node & { gatewayId: string }> {
    const { config, url } = await nodeConfig(name, engine, cluster);
    const { logger, lines } = capturingLogger();
    const after = plane.received.length;
    const gw = await startInProcessGateway(config, { logger });
    const node: Node = { name, url, engine, gw, logs: () => lines };
    nodes.push(node);
    tested.push(node);
    expect(gw.url).toBe(url);
    await until(async () => gw.gateway.sip.isConnected, 15_000);
    return { ...node, gatewayId: await helloAfter(after) };
  }

  async function childProcessNode(
    name: string,
    engine: SipEngineProcess,
    cluster: { url: string; keyPrefix: string },
  ): Promise<Node & { gatewayId: string }> {
    const { config, url } = await nodeConfig(name, engine, cluster);
    const dir = mkdtempSync(join(tmpdir(), 'cluster-node-'));
    dirs.push(dir);
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...config,
        log: { level: 'info', format: 'json' },
        store: { ...(config.store as object), path: join(dir, 'unused.db') },
        recording: { dir: join(dir, 'recordings') },
        auth: { keys: AUTH_KEYS },
        media: { workers: 1 },
      }),
    );
    const after = plane.received.length;
    const child = new GatewayProcess(['--config', configFile]);
    const node: Node = {
      name,
      url,
      engine,
      child,
      logs: () => [
        ...child.lines.filter((line) => line.level >= 40).map((line) => JSON.stringify(line)),
        ...(child.stderr ? [`stderr: ${child.stderr}`] : []),
      ],
    };
    nodes.push(node);
    tested.push(node);
    expect(await child.ready()).toBe(url);
    await until(async () => (await request(node, '/readyz')).json?.parts?.sip?.ok === true, 30_000);
    return { ...node, gatewayId: await helloAfter(after) };
  }

  /** Prints what the nodes logged (warn and above) when the running test fails. */
  function dumpLogsOnFailure(): void {
    onTestFailed(() => {
      for (const node of tested) {
        console.error(`--- node ${node.name} logs (warn+) ---\n${node.logs().join('\n') || '(none)'}`);
      }
    });
  }

  /** The app's calling configuration on a node: at most 3 calls, ringing until an action decides. */
  async function configureApp(node: Node): Promise<void> {
    const reply = await request(node, CALLING_PATH, {
      method: 'PUT',
      body: JSON.stringify({ maxConcurrentCalls: 3, defaultAnswerBehavior: 'webhook' }),
    });
    expect(reply.status, JSON.stringify(reply.json)).toBe(200);
    expect(reply.json).toMatchObject({ maxConcurrentCalls: 3, defaultAnswerBehavior: 'webhook' });
  }

  /** A sipp call to a node's SIP server that must end with `expected` (486 refused or rejected). */
  function dial(node: Node, expected: number): Promise<SippResult> {
    const run = runSipp({
      scenario: 'uac-expect-final',
      target: { host: '127.0.0.1', port: node.engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { expected },
      calls: 1,
      recvTimeoutMs: 120_000,
      hardTimeoutMs: 150_000,
    });
    callers.push(run);
    return run;
  }

  /** Places a call at `node` (ending with `expected`) and waits until it rings there. */
  async function ringAt(
    node: Node,
    seenFrom: Node,
    expected = 486,
  ): Promise<{ id: string; caller: Promise<SippResult> }> {
    const before = new Set((await callsOn(seenFrom)).map((call) => call.id));
    const caller = dial(node, expected);
    let id: string | undefined;
    await until(async () => {
      const ringing = (await callsOn(seenFrom, 'ringing')).filter((call) => !before.has(call.id));
      id = ringing[0]?.id;
      return id !== undefined;
    }, 10_000);
    const callId = id as string;
    // Owned and carried by the node it was sent to.
    if (node.gw) expect(node.gw.gateway.calls.get(callId)?.status).toBe('ringing');
    return { id: callId, caller };
  }

  it('holds maxConcurrentCalls 3 across both nodes, and a slot freed on A is usable on B at once', async () => {
    dumpLogsOnFailure();
    const cluster = await freshCluster();
    const a = await inProcessNode('a', engines[0], cluster);
    const b = await inProcessNode('b', engines[1], cluster);
    // Each node holds calling configurations in memory (reloaded only by its own writes): set it on both.
    await configureApp(a);
    await configureApp(b);

    const a1 = await ringAt(a, a);
    const a2 = await ringAt(a, b);
    const b1 = await ringAt(b, a);
    expect((await callsOn(b, 'ringing')).map((call) => call.id).sort()).toEqual([a1.id, a2.id, b1.id].sort());

    // The fourth concurrent call is refused whichever node takes it.
    assertAllCallsSucceeded(await dial(b, 486), 1);
    assertAllCallsSucceeded(await dial(a, 486), 1);
    expect(await callsOn(a, 'ringing')).toHaveLength(3);
    // Refused before they existed: no call rows for them.
    expect(await callsOn(a)).toHaveLength(3);

    // One call on A rejected through A: its slot is B's at once.
    const rejected = await reject(a, a1.id);
    expect(rejected.status, JSON.stringify(rejected.json)).toBe(200);
    expect(rejected.json).toMatchObject({ id: a1.id, status: 'busy', sipStatus: 486 });
    assertAllCallsSucceeded(await a1.caller, 1);
    const freedAt = Date.now();
    const b2 = await ringAt(b, b);
    expect(Date.now() - freedAt).toBeLessThan(3000);
    expect((await callsOn(a, 'ringing')).map((call) => call.id).sort()).toEqual([a2.id, b1.id, b2.id].sort());

    // And the limit holds again with the new call in.
    assertAllCallsSucceeded(await dial(a, 486), 1);

    for (const [node, call] of [
      [a, a2],
      [b, b1],
      [b, b2],
    ] as const) {
      expect((await reject(node, call.id)).status).toBe(200);
      assertAllCallsSucceeded(await call.caller, 1);
    }
  });

  it('forwards a reject sent to node B for a call ringing on node A, and lists both nodes’ calls on either', async () => {
    dumpLogsOnFailure();
    const cluster = await freshCluster();
    const a = await inProcessNode('a', engines[0], cluster);
    const b = await inProcessNode('b', engines[1], cluster);
    await configureApp(a);
    await configureApp(b);

    const onA = await ringAt(a, a);
    const onB = await ringAt(b, b, 603);
    // B does not carry A's call: the reject goes to A over HTTP, and A's answer comes back.
    expect(b.gw?.gateway.calls.get(onA.id)).toBeUndefined();
    for (const node of [a, b]) {
      const listed = await callsOn(node, 'ringing');
      expect(listed.map((call) => call.id).sort()).toEqual([onA.id, onB.id].sort());
    }

    const rejected = await reject(b, onA.id);
    expect(rejected.status, JSON.stringify(rejected.json)).toBe(200);
    expect(rejected.json).toMatchObject({ id: onA.id, status: 'busy', endReason: 'busy', sipStatus: 486 });
    assertAllCallsSucceeded(await onA.caller, 1);
    expect(a.gw?.gateway.calls.get(onA.id)).toBeUndefined();

    // Both nodes see it ended, and B's own call still ringing.
    for (const node of [a, b]) {
      const got = await request(node, `/v1/calls/${onA.id}`);
      expect(got.json).toMatchObject({ id: onA.id, status: 'busy', endReason: 'busy' });
      const listed = await callsOn(node);
      expect(listed.map((call) => call.id).sort()).toEqual([onA.id, onB.id].sort());
      expect(listed.find((call) => call.id === onB.id)).toMatchObject({ status: 'ringing' });
    }

    // The other way round: A rejects B's call.
    const back = await reject(a, onB.id, 603);
    expect(back.status, JSON.stringify(back.json)).toBe(200);
    expect(back.json).toMatchObject({ id: onB.id, sipStatus: 603 });
    assertAllCallsSucceeded(await onB.caller, 1);
  });

  it('ends the ringing call of a node killed with SIGKILL on the survivor, and delivers its events as the dead node’s', async () => {
    dumpLogsOnFailure();
    const cluster = await freshCluster();
    const a = await childProcessNode('a', engines[0], cluster);
    const b = await inProcessNode('b', engines[1], cluster);
    expect(b.gatewayId).not.toBe(a.gatewayId);
    await configureApp(a);
    await configureApp(b);

    const before = new Set((await callsOn(b)).map((call) => call.id));
    // The embedded SIP server answers the caller 480 once A's connection to it drops.
    const caller = dial(a, 480);
    let live: any;
    await until(async () => {
      live = (await callsOn(b, 'ringing')).find((call) => !before.has(call.id));
      return live !== undefined;
    }, 10_000);
    // A sent what it had before it died (acked by the control plane).
    await plane.waitFor(
      'calls.ringing of the call on A',
      () => plane.events.some((e) => e.event === 'calls.ringing' && e.data?.call?.id === live.id),
      10_000,
    );

    a.child?.kill('SIGKILL');
    const killedAt = Date.now();
    await a.child?.exited;
    assertAllCallsSucceeded(await caller, 1);

    // B's takeover pass (every leaseMs/2) ends it once A's lease lapsed: within 5 s of the kill.
    let ended: any;
    await until(
      async () => {
        ended = (await request(b, `/v1/calls/${live.id}`)).json;
        return ended?.endedAt != null;
      },
      5000 - (Date.now() - killedAt),
    );
    expect(Date.now() - killedAt).toBeLessThan(5000);
    expect(ended).toMatchObject({ id: live.id, status: 'failed', endReason: 'gateway_restart' });
    // Ended at A's last heartbeat (written every second), not when B noticed.
    expect(Date.parse(ended.endedAt)).toBeLessThanOrEqual(killedAt + 1500);
    expect(Date.parse(ended.endedAt)).toBeGreaterThanOrEqual(Date.parse(live.createdAt));
    expect(await callsOn(b, 'ringing')).toEqual([]);

    // Every event of the call, in order, under A's gateway id; none under B's.
    const gatewayOf = new Map<number, string>();
    const eventsOf = () => {
      for (const r of plane.received) {
        if (r.message?.type === 'hello') gatewayOf.set(r.connection, r.message.gatewayId);
      }
      const seen = new Map<string, { gatewayId: string; seq: number; event: string }>();
      for (const r of plane.received) {
        const m = r.message;
        if (m?.type !== 'event' || m.data?.call?.id !== live.id || seen.has(m.eventId)) continue;
        seen.set(m.eventId, { gatewayId: gatewayOf.get(r.connection) ?? '?', seq: m.seq, event: m.event });
      }
      return [...seen.values()].sort((x, y) => x.seq - y.seq);
    };
    await plane.waitFor(
      'the final event of the call on A',
      () => eventsOf().some((e) => FINAL_EVENTS.has(e.event)),
      10_000,
    );
    const events = eventsOf();
    expect(events.map((e) => e.event)).toEqual(['calls.initiated', 'calls.ringing', 'calls.failed']);
    expect(new Set(events.map((e) => e.gatewayId))).toEqual(new Set([a.gatewayId]));
    expect(events.filter((e) => FINAL_EVENTS.has(e.event))).toHaveLength(1);
    const final = plane.events.find((e) => e.event === 'calls.failed' && e.data?.call?.id === live.id);
    expect(final.data.call).toMatchObject({ status: 'failed', endReason: 'gateway_restart' });
  });
});
