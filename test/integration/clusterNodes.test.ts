import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClusterNode,
  ClusterRig,
  type ClusterStore,
  callsOn,
  FINAL_EVENTS,
  configureApp as putCallingConfig,
  request,
} from '../support/clusterRig.js';
import { ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { postgresServerMissing } from '../support/postgresServer.js';
import { redisServerMissing } from '../support/redisServer.js';
import type { SipEngineProcess } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, killAllSipp, runSipp, type SippResult } from '../support/sipp.js';

/**
 * Two gateway nodes as a cluster over real parts: one PostgreSQL (a fresh database per test), one
 * redis-server (a fresh key prefix per test), a control plane stand-in, and each node with its
 * own embedded SIP server (all from test/support/clusterRig.ts). sipp callers ring the test app
 * (defaultAnswerBehavior webhook: the call rings until an action decides it), so no livekit-server
 * is needed.
 *
 * - the app's maxConcurrentCalls holds across both nodes, and a slot freed on one is the other's;
 * - a command sent to the node that does not carry the call is forwarded to the one that does,
 *   and GET /v1/calls on either node lists both nodes' calls;
 * - kill -9 of a node (a child process): the survivor ends its ringing call with gateway_restart
 *   and delivers the call's last event under the dead node's gateway id, after the ones it sent.
 */
const missing = redisServerMissing() ?? postgresServerMissing();
if (missing) console.warn(missing);

type Node = ClusterNode;

const reject = (node: Node, callId: string, code = 486) =>
  request(node, `/v1/calls/${callId}/actions`, {
    method: 'POST',
    body: JSON.stringify({ action: 'reject', code }),
  });

describe.skipIf(missing !== undefined)('two gateway nodes in a cluster', () => {
  const rig = new ClusterRig('cluster');
  /** sipp runs a test started; awaited (or killed) after it. */
  const callers: Promise<SippResult>[] = [];

  beforeAll(() => rig.start());
  afterAll(() => rig.stop());
  afterEach(async () => {
    await rig.stopNodes();
    killAllSipp();
    await Promise.allSettled(callers.splice(0));
  });

  /** No livekit: sipp callers only ring; a long ring timeout, so only actions end the calls. */
  const inProcessNode = (name: string, engine: SipEngineProcess, cluster: ClusterStore) =>
    rig.inProcessNode(name, engine, cluster, { ringTimeoutSeconds: 120 });
  const childProcessNode = (name: string, engine: SipEngineProcess, cluster: ClusterStore) =>
    rig.childProcessNode(name, engine, cluster, { ringTimeoutSeconds: 120 });

  /** The app's calling configuration on a node: at most 3 calls, ringing until an action decides. */
  async function configureApp(node: Node): Promise<void> {
    const saved = await putCallingConfig(node, 3);
    expect(saved).toMatchObject({ maxConcurrentCalls: 3, defaultAnswerBehavior: 'webhook' });
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
    rig.dumpLogsOnFailure();
    const cluster = await rig.freshCluster();
    const a = await inProcessNode('a', rig.engines[0], cluster);
    const b = await inProcessNode('b', rig.engines[1], cluster);
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
    rig.dumpLogsOnFailure();
    const cluster = await rig.freshCluster();
    const a = await inProcessNode('a', rig.engines[0], cluster);
    const b = await inProcessNode('b', rig.engines[1], cluster);
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
    rig.dumpLogsOnFailure();
    const cluster = await rig.freshCluster();
    const a = await childProcessNode('a', rig.engines[0], cluster);
    const b = await inProcessNode('b', rig.engines[1], cluster);
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
    await rig.plane.waitFor(
      'calls.ringing of the call on A',
      () => rig.plane.events.some((e) => e.event === 'calls.ringing' && e.data?.call?.id === live.id),
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
      for (const r of rig.plane.received) {
        if (r.message?.type === 'hello') gatewayOf.set(r.connection, r.message.gatewayId);
      }
      const seen = new Map<string, { gatewayId: string; seq: number; event: string }>();
      for (const r of rig.plane.received) {
        const m = r.message;
        if (m?.type !== 'event' || m.data?.call?.id !== live.id || seen.has(m.eventId)) continue;
        seen.set(m.eventId, { gatewayId: gatewayOf.get(r.connection) ?? '?', seq: m.seq, event: m.event });
      }
      return [...seen.values()].sort((x, y) => x.seq - y.seq);
    };
    await rig.plane.waitFor(
      'the final event of the call on A',
      () => eventsOf().some((e) => FINAL_EVENTS.has(e.event)),
      10_000,
    );
    const events = eventsOf();
    expect(events.map((e) => e.event)).toEqual(['calls.initiated', 'calls.ringing', 'calls.failed']);
    expect(new Set(events.map((e) => e.gatewayId))).toEqual(new Set([a.gatewayId]));
    expect(events.filter((e) => FINAL_EVENTS.has(e.event))).toHaveLength(1);
    const final = rig.plane.events.find((e) => e.event === 'calls.failed' && e.data?.call?.id === live.id);
    expect(final.data.call).toMatchObject({ status: 'failed', endReason: 'gateway_restart' });
  });
});
