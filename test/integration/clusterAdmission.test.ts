import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallOwnership } from '../../src/cluster/callOwnership.js';
import { ClusterAdmission } from '../../src/cluster/clusterAdmission.js';
import { ClusterMetrics } from '../../src/cluster/clusterMetrics.js';
import { ClusterNode } from '../../src/cluster/clusterNode.js';
import {
  ClusterUnavailableError,
  connectClusterRedis,
  createClusterRedis,
} from '../../src/cluster/clusterRedis.js';
import { NodeLease } from '../../src/cluster/nodeLease.js';
import { clusterSchema } from '../../src/config/clusterSchema.js';
import { until } from '../support/gatewayApi.js';
import { type RedisServer, redisServerMissing, startRedisServer } from '../support/redisServer.js';

const missing = redisServerMissing();
if (missing) console.warn(missing);

/** One gateway node's cluster parts over its own Redis connection, as a node would build them. */
interface Node {
  id: string;
  redis: Redis;
  lease: NodeLease;
  admission: ClusterAdmission;
  ownership: CallOwnership;
  registry: Registry;
  logLines: () => Record<string, unknown>[];
}

/** A pino logger whose lines the test can read. */
function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => lines };
}

const started: Node[] = [];

async function startNode(
  server: RedisServer,
  id: string,
  options: { leaseMs?: number; prefix?: string } = {},
): Promise<Node> {
  const config = clusterSchema.parse({
    redisUrl: server.url,
    nodeId: id,
    internalUrl: `http://127.0.0.1:${8000 + started.length}`,
    leaseMs: options.leaseMs ?? 10_000,
    keyPrefix: options.prefix ?? 'gwtest',
  });
  const redis = createClusterRedis(config);
  await connectClusterRedis(redis, 5000);
  const { logger, lines } = capturingLogger();
  const registry = new Registry();
  const metrics = new ClusterMetrics(registry);
  const lease = new NodeLease({ redis, config, logger, metrics });
  await lease.start();
  const node: Node = {
    id,
    redis,
    lease,
    admission: new ClusterAdmission({ redis, config, logger, metrics }),
    ownership: new CallOwnership({ redis, config }),
    registry,
    logLines: lines,
  };
  started.push(node);
  return node;
}

async function stopNodes(): Promise<void> {
  for (const node of started.splice(0)) {
    node.lease.stopRenewing();
    node.redis.disconnect();
  }
}

let prefixes = 0;
/** A fresh key prefix per test: tests share one Redis without seeing each other's keys. */
const freshPrefix = (): string => `t${++prefixes}x${process.pid}`;

describe.skipIf(missing !== undefined)('cluster state over a real redis-server', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(stopNodes);
  afterAll(async () => {
    await server?.dispose();
  });

  it('holds an app’s limit across two nodes, and a released slot is usable at once by the other', async () => {
    const prefix = freshPrefix();
    const a = await startNode(server, 'node-a', { prefix });
    const b = await startNode(server, 'node-b', { prefix });
    const app = 'app_limit3';
    expect(await a.admission.admit(app, 'call-1', 3)).toEqual({ admitted: true, inUse: 1 });
    expect(await b.admission.admit(app, 'call-2', 3)).toEqual({ admitted: true, inUse: 2 });
    expect(await a.admission.admit(app, 'call-3', 3)).toEqual({ admitted: true, inUse: 3 });
    expect(await b.admission.admit(app, 'call-4', 3)).toEqual({
      admitted: false,
      reason: 'limit_reached',
      inUse: 3,
    });
    expect(await a.admission.admit(app, 'call-4', 3)).toMatchObject({
      admitted: false,
      reason: 'limit_reached',
    });
    // Another app's limit is its own.
    expect(await b.admission.admit('app_other', 'call-x', 3)).toMatchObject({ admitted: true, inUse: 1 });

    // A slot A released is B's at once, and release is idempotent.
    expect(await a.admission.release(app, 'call-1')).toBe(true);
    expect(await a.admission.release(app, 'call-1')).toBe(false);
    expect(await b.admission.admit(app, 'call-4', 3)).toEqual({ admitted: true, inUse: 3 });
    // A retried admit of a call this node holds does not take a second slot; another node's is refused.
    expect(await b.admission.admit(app, 'call-4', 3)).toEqual({ admitted: true, inUse: 3 });
    expect(await b.admission.admit(app, 'call-3', 4)).toMatchObject({
      admitted: false,
      reason: 'held_elsewhere',
    });
    // Releasing from the node that does not hold the slot works too (a survivor, a forwarded hangup).
    expect(await b.admission.release(app, 'call-3')).toBe(true);
    expect(await a.admission.slotsOf('node-a')).toEqual({});
    expect(await b.admission.slotsOf('node-b')).toEqual({
      'call-2': app,
      'call-4': app,
      'call-x': 'app_other',
    });

    const metrics = await a.registry.getSingleMetricAsString('gateway_cluster_admission_seconds');
    expect(metrics).toMatch(/gateway_cluster_admission_seconds_count\{outcome="admitted"\} 2/);
    expect(metrics).toMatch(/gateway_cluster_admission_seconds_count\{outcome="refused"\} 1/);
  });

  it('admits exactly the limit out of many concurrent admits from two nodes', async () => {
    const prefix = freshPrefix();
    const a = await startNode(server, 'node-a', { prefix });
    const b = await startNode(server, 'node-b', { prefix });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).admission.admit('app_burst', `call-${i}`, 10)),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(10);
    expect(results.filter((r) => !r.admitted && r.reason === 'limit_reached')).toHaveLength(40);
    expect(await a.admission.inUse('app_burst')).toBe(10);
  });

  it('admits in one round trip: p50 well within 5 ms over loopback', async () => {
    const a = await startNode(server, 'node-a', { prefix: freshPrefix() });
    const times: number[] = [];
    for (let i = 0; i < 300; i++) {
      const start = performance.now();
      await a.admission.admit('app_fast', `call-${i}`, 10_000);
      times.push(performance.now() - start);
    }
    times.sort((x, y) => x - y);
    const p50 = times[Math.floor(times.length / 2)] ?? Number.POSITIVE_INFINITY;
    expect(p50).toBeLessThan(5);
    expect(await a.admission.inUse('app_fast')).toBe(300);
  });

  it('gives a dead node’s slots back within its lease time, never a live node’s', async () => {
    const prefix = freshPrefix();
    const leaseMs = 1000;
    const a = await startNode(server, 'node-a', { prefix, leaseMs });
    const b = await startNode(server, 'node-b', { prefix, leaseMs });
    expect(await a.admission.admit('app_dead', 'a-1', 2)).toMatchObject({ admitted: true });
    expect(await b.admission.admit('app_dead', 'b-1', 2)).toMatchObject({ admitted: true });
    expect(await b.admission.admit('app_dead', 'b-2', 2)).toMatchObject({
      admitted: false,
      reason: 'limit_reached',
    });

    // A crashes: its timer stops, its lease is left to lapse (not deleted).
    a.lease.stopRenewing();
    const crashedAt = Date.now();
    await until(async () => (await b.admission.admit('app_dead', 'b-2', 2)).admitted, 5000);
    const waited = Date.now() - crashedAt;
    expect(waited).toBeLessThan(leaseMs + 700);
    expect(await b.admission.slotsOf('node-a')).toEqual({});
    // A's crashed run cannot admit any more: it has no lease.
    expect(await a.admission.admit('app_dead2', 'a-2', 5)).toMatchObject({
      admitted: false,
      reason: 'lease_lost',
    });

    // B's own slots survived several of its lease periods, renewed by its timer.
    await new Promise((resolve) => setTimeout(resolve, 2 * leaseMs));
    expect(await b.admission.admit('app_dead', 'b-3', 2)).toMatchObject({
      admitted: false,
      reason: 'limit_reached',
    });
    expect(Object.keys(await b.admission.slotsOf('node-b')).sort()).toEqual(['b-1', 'b-2']);
    expect(await b.lease.liveNodes()).toMatchObject([{ nodeId: 'node-b' }]);
    expect(await b.registry.getSingleMetricAsString('gateway_cluster_nodes')).toMatch(
      /gateway_cluster_nodes 1$/m,
    );
  });

  it('lets exactly one of two survivors take over a dead node, then forgets it', async () => {
    const prefix = freshPrefix();
    const leaseMs = 1000;
    const dead = await startNode(server, 'node-dead', { prefix, leaseMs });
    const s1 = await startNode(server, 'node-s1', { prefix, leaseMs });
    const s2 = await startNode(server, 'node-s2', { prefix, leaseMs });
    await dead.admission.admit('app_t', 'call-d1', 10);
    await dead.admission.admit('app_t', 'call-d2', 10);
    await dead.ownership.own('call-d1');
    await dead.ownership.own('call-d2');
    const deadIncarnation = dead.lease.incarnation;
    expect(await s1.lease.deadNodes()).toEqual([]);
    expect((await s1.lease.liveNodes()).map((n) => n.nodeId).sort()).toEqual([
      'node-dead',
      'node-s1',
      'node-s2',
    ]);

    dead.lease.stopRenewing();
    await until(async () => (await s1.lease.deadNodes()).length === 1, 5000);
    const [found] = await s1.lease.deadNodes();
    expect(found).toMatchObject({
      nodeId: 'node-dead',
      incarnation: deadIncarnation,
      ownedCalls: 2,
      heldSlots: 2,
    });
    expect(found?.lastSeenMs).toBeGreaterThan(Date.now() - 5000);
    expect(await s1.ownership.ownerOf('call-d1')).toEqual({ nodeId: 'node-dead', alive: false });

    // A survivor takes nothing over before its own lease has held for a whole lease time.
    await until(async () => s1.lease.canTakeOver && s2.lease.canTakeOver, 5000);
    // Both survivors race for it, several times each: one claim succeeds.
    const claims = await Promise.all(
      [s1, s2, s1, s2].map((s) => s.lease.claim({ nodeId: 'node-dead', incarnation: deadIncarnation })),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims[0] ? s1 : s2;
    const loser = winner === s1 ? s2 : s1;
    await expect(
      loser.lease.completeTakeover({ nodeId: 'node-dead', incarnation: deadIncarnation }),
    ).rejects.toThrow(/not claimed/);

    // The takeover: end each call (the calls layer's job), disown it, release the node's slots.
    const calls = await winner.ownership.callsOwnedBy('node-dead');
    expect(calls.sort()).toEqual(['call-d1', 'call-d2']);
    // Not done yet: the node is not forgotten while it still owns calls.
    expect(await winner.lease.completeTakeover({ nodeId: 'node-dead', incarnation: deadIncarnation })).toBe(
      false,
    );
    for (const call of calls) await winner.ownership.disown(call);
    expect(await winner.admission.releaseNode('node-dead')).toBe(2);
    expect(await winner.lease.completeTakeover({ nodeId: 'node-dead', incarnation: deadIncarnation })).toBe(
      true,
    );
    expect(await s2.lease.deadNodes()).toEqual([]);
    expect(await s1.admission.inUse('app_t')).toBe(0);

    // The dead node comes back from its "partition": it learns its calls were ended, and carries on
    // under a new incarnation.
    const before = dead.lease.incarnation;
    expect(await dead.lease.renew()).toBe('taken_over');
    expect(dead.lease.incarnation).not.toBe(before);
    expect(dead.logLines().some((l) => /survivor ended this node/.test(String(l.msg)))).toBe(true);
  });

  it('lets a restarted ClusterNode end what its previous run left: its calls, its slots', async () => {
    const prefix = freshPrefix();
    const config = (nodeId: string) =>
      clusterSchema.parse({
        redisUrl: server.url,
        nodeId,
        internalUrl: 'http://127.0.0.1:9',
        leaseMs: 1000,
        keyPrefix: prefix,
      });
    const logger = pino({ level: 'silent' });
    const ended: { callId: string; endedAt: Date; by: string }[] = [];
    const endBy = (by: string) => async (callId: string, endedAt: Date) => {
      ended.push({ callId, endedAt, by });
    };
    const a = new ClusterNode({ config: config('node-a'), logger, registry: new Registry() });
    const b = new ClusterNode({ config: config('node-b'), logger, registry: new Registry() });
    try {
      expect((await a.start(endBy('a'))).endedCalls).toEqual([]);
      await b.start(endBy('b'));
      // A node restarted after a crash nobody took over yet ends its own leftovers itself.
      await b.admission.admit('app_cn', 'call-2', 5);
      await b.ownership.own('call-2');
      b.lease.stopRenewing();
      b.redis.disconnect();
      const b2 = new ClusterNode({ config: config('node-b'), logger, registry: new Registry() });
      try {
        const report = await b2.start(endBy('b2'));
        expect(report).toMatchObject({ nodeId: 'node-b', endedCalls: ['call-2'], releasedSlots: 1 });
        expect(ended.at(-1)).toMatchObject({ callId: 'call-2', by: 'b2' });
      } finally {
        await b2.stop();
      }
    } finally {
      a.redis.disconnect();
      b.redis.disconnect();
    }
  });

  it('refuses to release the slots of a node that is live again', async () => {
    const prefix = freshPrefix();
    const a = await startNode(server, 'node-a', { prefix });
    const b = await startNode(server, 'node-b', { prefix });
    await a.admission.admit('app_r', 'call-1', 5);
    await expect(b.admission.releaseNode('node-a')).rejects.toThrow(/live lease/);
    expect(await a.admission.releaseNode('node-a', { force: true })).toBe(1);
  });

  it('tells a restarted node what its previous run left behind', async () => {
    const prefix = freshPrefix();
    const first = await startNode(server, 'node-r', { prefix });
    await first.admission.admit('app_r', 'call-1', 5);
    await first.ownership.own('call-1');
    first.lease.stopRenewing(); // crash

    const second = await startNode(server, 'node-r', { prefix });
    const config = {
      nodeId: 'node-r',
      internalUrl: 'http://127.0.0.1:9',
      leaseMs: 10_000,
      keyPrefix: prefix,
    };
    const again = new NodeLease({ redis: second.redis, config, logger: pino({ level: 'silent' }) });
    const start = await again.start();
    expect(start.status).toBe('replaced');
    expect(start.previous?.incarnation).toBe(second.lease.incarnation);
    // The other live process under the same id now conflicts on renewal, and says so once.
    expect(await second.lease.renew()).toBe('conflict');
    expect(await second.lease.renew()).toBe('conflict');
    expect(second.logLines().filter((l) => /another process holds a lease/.test(String(l.msg)))).toHaveLength(
      1,
    );
    again.stopRenewing();

    // The restarted run owns nothing yet: it clears what the crashed one held.
    expect(await second.ownership.callsOwnedBy('node-r')).toEqual(['call-1']);
    expect(await second.admission.releaseNode('node-r', { force: true })).toBe(1);
  });

  it('answers who owns a call, and forgets a call when it ends', async () => {
    const prefix = freshPrefix();
    const a = await startNode(server, 'node-a', { prefix });
    const b = await startNode(server, 'node-b', { prefix });
    await a.ownership.own('call-1');
    await b.ownership.own('call-2');
    expect(await b.ownership.ownerOf('call-1')).toEqual({
      nodeId: 'node-a',
      alive: true,
      internalUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      incarnation: a.lease.incarnation,
    });
    expect(await a.ownership.ownerOf('call-2')).toMatchObject({ nodeId: 'node-b', alive: true });
    expect(await a.ownership.ownerOf('call-none')).toBeUndefined();
    expect(await b.ownership.callsOwnedBy('node-a')).toEqual(['call-1']);

    // A call moved to another node (a transfer) leaves its old owner's set.
    await b.ownership.own('call-1');
    expect(await a.ownership.callsOwnedBy('node-a')).toEqual([]);
    expect((await a.ownership.callsOwnedBy('node-b')).sort()).toEqual(['call-1', 'call-2']);

    expect(await a.ownership.disown('call-1')).toBe(true);
    expect(await a.ownership.disown('call-1')).toBe(false);
    expect(await a.ownership.ownerOf('call-1')).toBeUndefined();

    // A clean stop deletes the lease at once; the node is not forgotten while it owns a call.
    await b.lease.stop();
    expect(await a.ownership.ownerOf('call-2')).toEqual({ nodeId: 'node-b', alive: false });
    expect(await a.lease.deadNodes()).toMatchObject([{ nodeId: 'node-b', ownedCalls: 1, heldSlots: 0 }]);
    // A's clean stop, owning nothing, forgets it entirely.
    await a.lease.stop();
    expect((await b.lease.deadNodes()).map((n) => n.nodeId)).toEqual(['node-b']);
  });
});

describe.skipIf(missing !== undefined)('cluster state while Redis is down', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(stopNodes);
  afterAll(async () => {
    await server?.dispose();
  });

  it('refuses admission within about a second, logs the outage once, and works again after a restart', async () => {
    const leaseMs = 1000;
    const node = await startNode(server, 'node-a', { prefix: freshPrefix(), leaseMs });
    expect(await node.admission.admit('app_down', 'call-1', 5)).toMatchObject({ admitted: true });

    // A Redis that hangs (SIGSTOP: connected, silent) fails admission after the command timeout.
    server.pause();
    try {
      const hungAt = Date.now();
      const hung = await node.admission.admit('app_down', 'call-h', 5).catch((e: unknown) => e);
      expect(hung).toBeInstanceOf(ClusterUnavailableError);
      expect((hung as Error).message).toMatch(/timed out/i);
      expect(Date.now() - hungAt).toBeGreaterThanOrEqual(900);
      expect(Date.now() - hungAt).toBeLessThan(1500);
    } finally {
      server.resume();
    }
    await until(async () => {
      try {
        return (await node.admission.admit('app_down', 'call-h', 5)).admitted;
      } catch {
        return false;
      }
    }, 5000);
    expect(await node.registry.getSingleMetricAsString('gateway_cluster_redis_up')).toMatch(/ 1$/m);

    await server.stop();
    const startedAt = Date.now();
    const error = await node.admission.admit('app_down', 'call-2', 5).catch((e: unknown) => e);
    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(error).toBeInstanceOf(ClusterUnavailableError);
    expect((error as Error).message).toMatch(/^admit call: Redis unavailable/);
    await expect(node.admission.release('app_down', 'call-1')).rejects.toBeInstanceOf(
      ClusterUnavailableError,
    );

    // Several renewal periods fail; the outage is logged once, and the gauge says so.
    await until(
      async () =>
        /gateway_cluster_redis_up 0$/m.test(
          await node.registry.getSingleMetricAsString('gateway_cluster_redis_up'),
        ),
      5000,
    );
    await new Promise((resolve) => setTimeout(resolve, leaseMs));
    const outages = () => node.logLines().filter((l) => /Redis unreachable/.test(String(l.msg)));
    expect(outages()).toHaveLength(1);

    // Redis comes back empty (no persistence): the lease is taken again on the next tick and
    // admission works again, without a new client.
    await server.restart();
    await until(async () => {
      try {
        return (await node.admission.admit('app_down', 'call-3', 5)).admitted;
      } catch {
        return false;
      }
    }, 10_000);
    expect(node.lease.status).toBe('recreated');
    expect(node.logLines().some((l) => /Redis answers again/.test(String(l.msg)))).toBe(true);
    expect(outages()).toHaveLength(1);
    expect(await node.registry.getSingleMetricAsString('gateway_cluster_redis_up')).toMatch(/ 1$/m);
  });

  it('refuses to start a node lease while Redis is unreachable', async () => {
    const config = clusterSchema.parse({
      redisUrl: 'redis://127.0.0.1:1',
      nodeId: 'node-x',
      internalUrl: 'http://127.0.0.1:9',
    });
    const redis = createClusterRedis(config);
    try {
      await expect(connectClusterRedis(redis, 500)).rejects.toBeInstanceOf(ClusterUnavailableError);
      const lease = new NodeLease({ redis, config, logger: pino({ level: 'silent' }) });
      await expect(lease.start()).rejects.toBeInstanceOf(ClusterUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});

describe('cluster config', () => {
  it('names the key of a bad value and applies the defaults', () => {
    const base = { redisUrl: 'redis://127.0.0.1:6379', nodeId: 'gw-1', internalUrl: 'http://10.0.0.5:8080' };
    expect(clusterSchema.parse(base)).toEqual({
      ...base,
      leaseMs: 10_000,
      keyPrefix: 'gw',
      commandTimeoutMs: 1000,
    });
    const issue = (value: Record<string, unknown>) =>
      clusterSchema.safeParse({ ...base, ...value }).error?.issues[0]?.path;
    expect(issue({ leaseMs: 999 })).toEqual(['leaseMs']);
    expect(issue({ nodeId: 'a{b}' })).toEqual(['nodeId']);
    expect(issue({ nodeId: undefined })).toEqual(['nodeId']);
    expect(issue({ redisUrl: 'http://x' })).toEqual(['redisUrl']);
    expect(issue({ keyPrefix: 'a:b' })).toEqual(['keyPrefix']);
  });
});
