/**
 * Cluster benchmark (issue 18): INVITE→180 and admission latency with Redis in the path, and the
 * ringing calls one and two cluster nodes carry. Real processes on free loopback ports: the built
 * gateway (`dist/src/main.js`) per node, each with its own embedded SIP server, a throwaway
 * PostgreSQL and redis-server for the cluster setups, and a control plane stand-in (below). No
 * livekit-server: the test app rings (defaultAnswerBehavior webhook) until the bench rejects the
 * call through the API, so what is timed is signalling, call state and admission, not media.
 *
 *   npm run build && npx tsc -p bench/cluster/tsconfig.json && node dist/bench/cluster/clusterBench.js
 *
 * Setups: `sqlite` (one node, SQLite, no cluster: today's default), `cluster1` (one cluster node on
 * PostgreSQL + Redis), `cluster2` (two cluster nodes on the same PostgreSQL + Redis, calls
 * alternated between their SIP servers).
 *
 * 1. Latency: LATENCY_CALLS calls at LATENCY_CPS, each rejected (486, through the API of the node
 *    carrying it) as soon as it rang, so only a few are live at once. INVITE→180 is timed at the
 *    caller's socket (bench/media/sipCaller.ts, the media bench's setup-latency driver); admission
 *    is the gateway's own `gateway_cluster_admission_seconds{outcome="admitted"}` histogram (one
 *    EVALSHA per call), read from /metrics before and after: mean from _sum/_count, p50/p95
 *    interpolated inside its buckets (0.5, 1, 2, 5 ms… so a coarse figure).
 * 2. Load: HOLD_CALLS calls at LOAD_CPS, each held ringing (not rejected) until all are up; a call
 *    fails when it gets a final response or no 180 within 5 s. CPU is read from /proc for each
 *    node's gateway process (with its media workers) and its SIP server over the ramp, first
 *    INVITE to last 180, less the idle rate of the 5 s before, and divided by the calls set up:
 *    CPU ms per call set-up, per node; PostgreSQL + redis-server the same way for the cluster.
 *
 * Env: SETUPS=sqlite,cluster1,cluster2 LATENCY_CALLS=200 LATENCY_CPS=10 HOLD_CALLS=400 LOAD_CPS=20
 * (HOLD_CALLS=0 skips the load step), OUT=dist/bench/cluster/cluster-bench.json.
 * Not part of npm test; no timed assertion anywhere: it prints a table and writes the JSON.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { WebSocketServer } from 'ws';
import { freeTcpPort } from '../../src/launcher/freePorts.js';
import { stopChild } from '../../src/launcher/stopChild.js';
import { callGatewayConfig, ROUTED_NUMBER } from '../../test/support/gatewayApi.js';
import { type PostgresServer, startPostgresServer } from '../../test/support/postgresServer.js';
import { type RedisServer, startRedisServer } from '../../test/support/redisServer.js';
import { type SipEngineProcess, startSipEngine } from '../../test/support/sipEngineProcess.js';
import { AUTH_KEYS, bearer, KEYS, TEST_APP_ID } from '../../test/support/testKeys.js';
import { childrenOf, sample } from '../media/processTree.js';
import { type OutgoingCall, SipCaller } from '../media/sipCaller.js';

type SetupName = 'sqlite' | 'cluster1' | 'cluster2';
const SETUPS = (process.env.SETUPS ?? 'sqlite,cluster1,cluster2').split(',') as SetupName[];
const LATENCY_CALLS = Number(process.env.LATENCY_CALLS ?? 200);
const LATENCY_CPS = Number(process.env.LATENCY_CPS ?? 10);
const HOLD_CALLS = Number(process.env.HOLD_CALLS ?? 400);
const LOAD_CPS = Number(process.env.LOAD_CPS ?? 20);
const OUT = process.env.OUT ?? fileURLToPath(new URL('./cluster-bench.json', import.meta.url));
/** A call that has not rung by then counts as failed. */
const RING_DEADLINE_MS = 5000;
const LEASE_MS = 3000;
/** The built gateway, as `npm start` runs it (this file runs from dist/bench/cluster/). */
const GATEWAY_MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const CONTROL_TOKEN = `cp_bench_cluster_${process.pid}_000000000000`;
/** A static offer: the calls only ring, no RTP flows. */
const SDP = [
  'v=0',
  'o=- 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=sendrecv',
  '',
].join('\r\n');

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The control plane's part: acks every event and tells which call id rang for a From number. */
class RingWatcher {
  readonly helloCount = { value: 0 };
  private readonly server: WebSocketServer;
  private readonly waiting = new Map<string, (callId: string) => void>();
  private readonly seen = new Map<string, string>();

  constructor() {
    this.server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      verifyClient: (info, done) => done(info.req.headers.authorization === `Bearer ${CONTROL_TOKEN}`, 401),
    });
    this.server.on('connection', (socket) => {
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as {
          type: string;
          seq?: number;
          event?: string;
          data?: { call?: { id: string; fromAddress: string } };
        };
        if (message.type === 'hello') this.helloCount.value++;
        if (message.type !== 'event') return;
        socket.send(JSON.stringify({ type: 'ack', seq: message.seq }));
        const call = message.data?.call;
        if (message.event !== 'calls.ringing' || !call) return;
        const waiter = this.waiting.get(call.fromAddress);
        if (waiter) {
          this.waiting.delete(call.fromAddress);
          waiter(call.id);
        } else this.seen.set(call.fromAddress, call.id);
      });
    });
  }

  async url(): Promise<string> {
    if (!this.server.address()) await new Promise((r) => this.server.once('listening', r));
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The id of the call from `from`, once its calls.ringing event arrived. */
  callIdOf(from: string): Promise<string> {
    const known = this.seen.get(from);
    if (known) {
      this.seen.delete(from);
      return Promise.resolve(known);
    }
    return new Promise((resolve) => this.waiting.set(from, resolve));
  }

  close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface BenchNode {
  name: string;
  url: string;
  engine: SipEngineProcess;
  caller: SipCaller;
  gatewayPid: number;
  stop(): Promise<void>;
}

async function startNode(options: {
  name: string;
  engine: SipEngineProcess;
  controlUrl: string;
  cluster?: { storeUrl: string; redisUrl: string; keyPrefix: string };
}): Promise<BenchNode> {
  const dir = mkdtempSync(join(tmpdir(), `cluster-bench-${options.name}-`));
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const { cluster } = options;
  const config = {
    ...callGatewayConfig(options.engine, undefined, { sip: { ringTimeoutSeconds: 600 } }),
    http: { port },
    log: { level: 'warn', format: 'json' },
    auth: { keys: AUTH_KEYS },
    media: { workers: 1, maxCpuUtilization: 1 },
    recording: { dir: join(dir, 'recordings') },
    control: { url: options.controlUrl, token: CONTROL_TOKEN },
    ...(cluster
      ? {
          store: { kind: 'postgres', url: cluster.storeUrl, path: join(dir, 'unused.db') },
          cluster: {
            redisUrl: cluster.redisUrl,
            nodeId: `bench-${options.name}`,
            internalUrl: url,
            leaseMs: LEASE_MS,
            keyPrefix: cluster.keyPrefix,
          },
        }
      : { store: { path: join(dir, 'gateway.db') } }),
  };
  const configFile = join(dir, 'gateway.json');
  writeFileSync(configFile, JSON.stringify(config));
  const logFile = join(dir, 'gateway.log');
  const logFd = openSync(logFile, 'w');
  const gateway = spawn(process.execPath, [GATEWAY_MAIN, '--config', configFile], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let caller: SipCaller | undefined;
  const stop = async () => {
    caller?.close();
    await stopChild(gateway, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const body = (await fetch(`${url}/readyz`)
        .then((r) => r.json())
        .catch(() => ({}))) as { ready?: boolean; parts?: { sip?: { ok?: boolean } } };
      if (body.ready === true || body.parts?.sip?.ok === true) break;
      if (gateway.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `${options.name} not ready: ${JSON.stringify(body)}\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
        );
      }
      await sleep(100);
    }
    caller = await SipCaller.open({ host: '127.0.0.1', port: options.engine.sipPort });
    const reply = await api(url, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ maxConcurrentCalls: 10_000, defaultAnswerBehavior: 'webhook' }),
    });
    if (reply.status !== 200)
      throw new Error(`calling config on ${options.name}: ${reply.status} ${reply.text}`);
    return { name: options.name, url, engine: options.engine, caller, gatewayPid: gateway.pid ?? -1, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function api(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}${path}`, {
    ...init,
    headers: {
      ...bearer(KEYS.admin),
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
  });
  return { status: response.status, text: await response.text() };
}

/** One ringing call: INVITE→180 at the caller, and its id once the control plane heard it ring. */
interface Rung {
  node: BenchNode;
  sip: OutgoingCall;
  ringMs: number;
  callId: Promise<string>;
}

let fromSeq = 0;

async function ring(node: BenchNode, watcher: RingWatcher): Promise<Rung> {
  const from = `+1666${String(++fromSeq).padStart(7, '0')}`;
  const callId = watcher.callIdOf(from);
  const sip = node.caller.invite({ from, to: ROUTED_NUMBER, sdp: SDP });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sip.ringing,
      sip.answered.then(() => Promise.reject(new Error('answered without ringing'))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no 180 within ${RING_DEADLINE_MS} ms`)), RING_DEADLINE_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return { node, sip, ringMs: (sip.ringingAt ?? Number.NaN) - sip.invitedAt, callId };
}

/** Rejects the call (486) through the API of the node carrying it, and waits for the caller to see it. */
async function rejectCall(rung: Rung): Promise<void> {
  const id = await rung.callId;
  const reply = await api(rung.node.url, `/v1/calls/${id}/actions`, {
    method: 'POST',
    body: JSON.stringify({ action: 'reject', code: 486 }),
  });
  if (reply.status !== 200) throw new Error(`reject ${id}: ${reply.status} ${reply.text}`);
  await Promise.race([rung.sip.answered.catch(() => undefined), sleep(5000)]);
}

/** The admitted-outcome series of gateway_cluster_admission_seconds: bucket upper bound → count, sum, count. */
interface Histogram {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

async function admissionHistogram(node: BenchNode): Promise<Histogram> {
  const text = await (await fetch(`${node.url}/metrics`, { headers: bearer(KEYS.metrics) })).text();
  const histogram: Histogram = { buckets: new Map(), sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('gateway_cluster_admission_seconds') || !line.includes('outcome="admitted"'))
      continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('gateway_cluster_admission_seconds_bucket')) {
      const le = /le="([^"]+)"/.exec(line)?.[1] ?? '+Inf';
      histogram.buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), value);
    } else if (line.startsWith('gateway_cluster_admission_seconds_sum')) histogram.sum = value;
    else if (line.startsWith('gateway_cluster_admission_seconds_count')) histogram.count = value;
  }
  return histogram;
}

/** after − before, summed over nodes. */
function histogramDelta(pairs: [Histogram, Histogram][]): Histogram {
  const out: Histogram = { buckets: new Map(), sum: 0, count: 0 };
  for (const [before, after] of pairs) {
    out.sum += after.sum - before.sum;
    out.count += after.count - before.count;
    for (const [le, n] of after.buckets)
      out.buckets.set(le, (out.buckets.get(le) ?? 0) + n - (before.buckets.get(le) ?? 0));
  }
  return out;
}

/** A quantile (ms) of a cumulative histogram, linear inside the bucket it falls in (as PromQL's histogram_quantile). */
function histogramQuantileMs(h: Histogram, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of [...h.buckets].sort((a, b) => a[0] - b[0])) {
    if (cumulative >= rank) {
      if (!Number.isFinite(le)) return lower * 1000;
      const inside = cumulative - below;
      return (lower + (inside === 0 ? 0 : ((rank - below) / inside) * (le - lower))) * 1000;
    }
    lower = le;
    below = cumulative;
  }
  return lower * 1000;
}

function percentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

const r2 = (v: number | null) => (v === null || Number.isNaN(v) ? null : Math.round(v * 100) / 100);

/** CPU seconds of a node: its gateway process with its children (media workers), and its SIP server. */
function nodeUsage(node: BenchNode): { gateway: number; sip: number } {
  const gateway = sample([node.gatewayPid, ...childrenOf(node.gatewayPid).map((p) => p.pid)]);
  return { gateway: gateway.cpu, sip: sample([node.engine.pid]).cpu };
}

/** Every process below `pid`. */
function descendants(pid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const child of childrenOf(pid)) out.push(child, ...descendants(child.pid));
  return out;
}

/** CPU seconds of the shared PostgreSQL (postmaster and backends) and redis-server, if running. */
function storeCpu(): number {
  const pids = descendants(process.pid)
    .filter((p) => p.comm === 'postgres' || p.comm === 'redis-server')
    .map((p) => p.pid);
  return sample(pids).cpu;
}

/** Per-node and store CPU seconds per wall second with no call, to take the idle cost (leases, heartbeats) out. */
async function idleRates(
  nodes: BenchNode[],
  seconds: number,
): Promise<{ nodes: { gateway: number; sip: number }[]; store: number }> {
  const n0 = nodes.map(nodeUsage);
  const s0 = storeCpu();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const n1 = nodes.map(nodeUsage);
  return {
    nodes: n1.map((u, i) => ({
      gateway: (u.gateway - (n0[i]?.gateway ?? 0)) / wall,
      sip: (u.sip - (n0[i]?.sip ?? 0)) / wall,
    })),
    store: (storeCpu() - s0) / wall,
  };
}

interface LatencyFigures {
  calls: number;
  failed: number;
  inviteToRingingMs: { p50: number | null; p95: number | null; mean: number | null };
  admissionMs: { p50: number | null; p95: number | null; mean: number | null; samples: number } | null;
}

async function measureLatency(
  nodes: BenchNode[],
  watcher: RingWatcher,
  clustered: boolean,
): Promise<LatencyFigures> {
  // Warm-up: JIT, pools and prepared statements, not counted.
  for (let i = 0; i < 10; i++) {
    const node = nodes[i % nodes.length] as BenchNode;
    await rejectCall(await ring(node, watcher));
  }
  const before = clustered ? await Promise.all(nodes.map(admissionHistogram)) : [];
  const runs: Promise<number>[] = [];
  for (let i = 0; i < LATENCY_CALLS; i++) {
    const node = nodes[i % nodes.length] as BenchNode;
    runs.push(
      ring(node, watcher).then(async (rung) => {
        await rejectCall(rung);
        return rung.ringMs;
      }),
    );
    await sleep(1000 / LATENCY_CPS);
  }
  const settled = await Promise.allSettled(runs);
  const ms = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const s of settled) if (s.status === 'rejected') log(`latency call failed: ${String(s.reason)}`);
  let admissionMs: LatencyFigures['admissionMs'] = null;
  if (clustered) {
    const after = await Promise.all(nodes.map(admissionHistogram));
    const delta = histogramDelta(before.map((b, i) => [b, after[i] as Histogram]));
    admissionMs = {
      p50: r2(histogramQuantileMs(delta, 0.5)),
      p95: r2(histogramQuantileMs(delta, 0.95)),
      mean: r2(delta.count ? (delta.sum / delta.count) * 1000 : null),
      samples: delta.count,
    };
  }
  return {
    calls: LATENCY_CALLS,
    failed: LATENCY_CALLS - ms.length,
    inviteToRingingMs: {
      p50: r2(percentile(ms, 0.5)),
      p95: r2(percentile(ms, 0.95)),
      mean: r2(ms.reduce((a, b) => a + b, 0) / Math.max(ms.length, 1)),
    },
    admissionMs,
  };
}

interface LoadFigures {
  offered: number;
  cps: number;
  ringing: number;
  failed: number;
  /** Calls still ringing (no final response) once all were up. */
  heldAtEnd: number;
  rampSeconds: number;
  inviteToRingingMs: { p50: number | null; p95: number | null };
  /**
   * CPU over the ramp (first INVITE to last 180) less the idle rate measured just before, per call
   * set up.
   */
  perNode: {
    node: string;
    calls: number;
    idleGatewayCpuPct: number;
    gatewayCpuPct: number;
    gatewayCpuMsPerCall: number | null;
    sipCpuMsPerCall: number | null;
  }[];
  /** PostgreSQL + redis-server, the same way (cluster setups only). */
  storeCpuMsPerCall: number | null;
}

async function measureLoad(
  nodes: BenchNode[],
  watcher: RingWatcher,
  clustered: boolean,
): Promise<LoadFigures> {
  // The latency step's last calls (their events, store writes) settle first.
  await sleep(3000);
  const idle = await idleRates(nodes, 5);
  const u0 = nodes.map(nodeUsage);
  const s0 = storeCpu();
  const t0 = performance.now();
  const runs: Promise<Rung>[] = [];
  for (let i = 0; i < HOLD_CALLS; i++) {
    runs.push(ring(nodes[i % nodes.length] as BenchNode, watcher));
    await sleep(1000 / LOAD_CPS);
  }
  const settled = await Promise.allSettled(runs);
  const seconds = (performance.now() - t0) / 1000;
  const u1 = nodes.map(nodeUsage);
  const s1 = storeCpu();
  const rung = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  for (const s of settled) if (s.status === 'rejected') log(`load call failed: ${String(s.reason)}`);
  // Held for a moment: a call refused late (a final after 180) would show here.
  await sleep(2000);
  let finals = 0;
  await Promise.all(
    rung.map((r) =>
      Promise.race([
        r.sip.answered.then(
          () => undefined,
          () => finals++,
        ),
        sleep(0),
      ]),
    ),
  );
  const perNode = nodes.map((node, i) => {
    const calls = rung.filter((r) => r.node === node).length;
    const rate = idle.nodes[i] ?? { gateway: 0, sip: 0 };
    const g = (u1[i]?.gateway ?? 0) - (u0[i]?.gateway ?? 0);
    const gBusy = g - rate.gateway * seconds;
    const sBusy = (u1[i]?.sip ?? 0) - (u0[i]?.sip ?? 0) - rate.sip * seconds;
    return {
      node: node.name,
      calls,
      idleGatewayCpuPct: Math.round(rate.gateway * 100),
      gatewayCpuPct: Math.round((g / seconds) * 100),
      gatewayCpuMsPerCall: r2(calls ? (gBusy * 1000) / calls : null),
      sipCpuMsPerCall: r2(calls ? (sBusy * 1000) / calls : null),
    };
  });
  const figures: LoadFigures = {
    offered: HOLD_CALLS,
    cps: LOAD_CPS,
    ringing: rung.length,
    failed: HOLD_CALLS - rung.length,
    heldAtEnd: rung.length - finals,
    rampSeconds: r2(seconds) ?? 0,
    inviteToRingingMs: {
      p50: r2(
        percentile(
          rung.map((r) => r.ringMs),
          0.5,
        ),
      ),
      p95: r2(
        percentile(
          rung.map((r) => r.ringMs),
          0.95,
        ),
      ),
    },
    perNode,
    storeCpuMsPerCall:
      clustered && rung.length ? r2(((s1 - s0 - idle.store * seconds) * 1000) / rung.length) : null,
  };
  // Hang the held calls up, a few at a time.
  for (let i = 0; i < rung.length; i += 16) {
    await Promise.allSettled(rung.slice(i, i + 16).map(rejectCall));
  }
  return figures;
}

interface SetupFigures {
  setup: SetupName;
  nodes: number;
  store: string;
  latency: LatencyFigures;
  load?: LoadFigures;
  loadAverage: { start: number[]; end: number[] };
}

async function main(): Promise<void> {
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(2)));
  const results: SetupFigures[] = [];
  try {
    const watcher = new RingWatcher();
    stops.push(() => watcher.close());
    const controlUrl = await watcher.url();
    // One after the other: each picks free ports, and two pickers at once can be handed the same one.
    const engineA = await startSipEngine({ transports: ['udp'] });
    stops.push(() => engineA.stop());
    const engineB = await startSipEngine({ transports: ['udp'] });
    stops.push(() => engineB.stop());
    let postgres: PostgresServer | undefined;
    let redis: RedisServer | undefined;
    let databases = 0;
    if (SETUPS.some((s) => s !== 'sqlite')) {
      postgres = await startPostgresServer();
      stops.push(() => (postgres as PostgresServer).stop());
      redis = await startRedisServer();
      stops.push(() => (redis as RedisServer).dispose());
    }
    /** A fresh database and key prefix per setup: nothing of the previous one in the way. */
    const freshCluster = async () => {
      if (!postgres || !redis) throw new Error('no PostgreSQL/Redis');
      const name = `cluster_bench_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
      const storeUrl = new URL(postgres.url);
      storeUrl.pathname = `/${name}`;
      return {
        storeUrl: storeUrl.toString(),
        redisUrl: redis.url,
        keyPrefix: `bench${databases}x${process.pid}`,
      };
    };

    for (const setup of SETUPS) {
      const start = loadavg().map((v) => r2(v) ?? 0);
      const cluster = setup === 'sqlite' ? undefined : await freshCluster();
      const count = setup === 'cluster2' ? 2 : 1;
      log(`${setup}: starting ${count} node(s)`);
      const nodes: BenchNode[] = [];
      const hellos = watcher.helloCount.value;
      try {
        for (const [i, engine] of [engineA, engineB].slice(0, count).entries()) {
          nodes.push(
            await startNode({
              name: `${setup}-${'ab'[i]}`,
              engine,
              controlUrl,
              ...(cluster ? { cluster } : {}),
            }),
          );
        }
        while (watcher.helloCount.value < hellos + count) await sleep(50);
        log(`${setup}: latency, ${LATENCY_CALLS} calls at ${LATENCY_CPS}/s`);
        const latency = await measureLatency(nodes, watcher, cluster !== undefined);
        log(`${setup}: ${JSON.stringify(latency)}`);
        let load: LoadFigures | undefined;
        if (HOLD_CALLS > 0) {
          log(`${setup}: load, ${HOLD_CALLS} ringing calls at ${LOAD_CPS}/s`);
          load = await measureLoad(nodes, watcher, cluster !== undefined);
          log(`${setup}: ${JSON.stringify(load)}`);
        }
        results.push({
          setup,
          nodes: count,
          store: cluster ? 'postgres+redis' : 'sqlite',
          latency,
          ...(load ? { load } : {}),
          loadAverage: { start, end: loadavg().map((v) => r2(v) ?? 0) },
        });
      } finally {
        for (const node of nodes) await node.stop();
      }
    }
  } finally {
    await stopAll();
  }
  writeFileSync(OUT, `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
  printTable(results);
  console.log(`\nJSON: ${OUT}`);
}

function printTable(results: SetupFigures[]): void {
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(2));
  const base = results.find((r) => r.setup === 'sqlite')?.latency.inviteToRingingMs.p50 ?? null;
  console.log('\nINVITE→180 (caller socket) and cluster admission (gateway histogram), ms');
  console.log(
    'setup      nodes  calls failed  180 p50  180 p95  Δp50 vs sqlite  admit p50  admit p95  admit mean',
  );
  for (const r of results) {
    const l = r.latency;
    const delta = base === null || l.inviteToRingingMs.p50 === null ? null : l.inviteToRingingMs.p50 - base;
    console.log(
      `${r.setup.padEnd(9)}  ${String(r.nodes).padStart(5)}  ${String(l.calls).padStart(5)} ${String(l.failed).padStart(6)}  ${f(l.inviteToRingingMs.p50).padStart(7)}  ${f(l.inviteToRingingMs.p95).padStart(7)}  ${(r.setup === 'sqlite' ? '-' : f(delta)).padStart(14)}  ${f(l.admissionMs?.p50).padStart(9)}  ${f(l.admissionMs?.p95).padStart(9)}  ${f(l.admissionMs?.mean).padStart(10)}`,
    );
  }
  const loads = results.filter((r) => r.load);
  if (loads.length === 0) return;
  console.log(
    '\nRinging calls held at a fixed rate. Per node: gateway process + its media worker, and its SIP server;' +
      '\nCPU ms per call set-up = ramp CPU less the idle rate; store = PostgreSQL + redis-server',
  );
  console.log(
    'setup      offered  cps  ringing failed held  180 p50  180 p95  store ms/call  node         calls  idle gw %  gw %  gw ms/call  SIP ms/call',
  );
  for (const r of loads) {
    const l = r.load as LoadFigures;
    for (const [i, n] of l.perNode.entries()) {
      const head =
        i === 0
          ? `${r.setup.padEnd(9)}  ${String(l.offered).padStart(7)}  ${String(l.cps).padStart(3)}  ${String(l.ringing).padStart(7)} ${String(l.failed).padStart(6)} ${String(l.heldAtEnd).padStart(4)}  ${f(l.inviteToRingingMs.p50).padStart(7)}  ${f(l.inviteToRingingMs.p95).padStart(7)}  ${f(l.storeCpuMsPerCall).padStart(12)}`
          : ' '.repeat(79);
      console.log(
        `${head}  ${n.node.padEnd(11)}  ${String(n.calls).padStart(5)}  ${String(n.idleGatewayCpuPct).padStart(9)}  ${String(n.gatewayCpuPct).padStart(4)}  ${f(n.gatewayCpuMsPerCall).padStart(10)}  ${f(n.sipCpuMsPerCall).padStart(11)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
