import { existsSync } from 'node:fs';
import { dispose, type Room } from '@livekit/rtc-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_EVENTS } from '../../src/calls/callTypes.js';
import { findLiveKitServerBinary } from '../../src/launcher/livekitServer.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
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
import type { GatewayProcess } from '../support/gatewayProcess.js';
import { type KamailioProcess, startKamailio } from '../support/kamailioProcess.js';
import {
  joinRoomWithToken,
  nextAudioTrack,
  publishTone,
  recordAudio,
} from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { postgresServerMissing } from '../support/postgresServer.js';
import { redisServerMissing } from '../support/redisServer.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { SipCaller } from '../support/sipCaller.js';
import type { SipEngineProcess } from '../support/sipEngineProcess.js';
import { analyseTone } from '../support/tone.js';

/**
 * Two gateway nodes as a cluster behind a real Kamailio (sip/kamailio/kamailio.cfg): one
 * PostgreSQL (a fresh database per test), one redis-server (a fresh key prefix per test), one
 * livekit-server, a control plane stand-in, and each node with its own embedded SIP server and
 * its own RTP address (node a 127.0.0.1, node b 127.0.0.2: both loopback). Callers are our SIP
 * caller and RTP peer, dialling Kamailio; their in-dialog requests follow Kamailio's Record-Route.
 *
 * - Kamailio spreads the calls over both nodes; on a call taken by each, the caller's tone is
 *   heard in the call's LiveKit room and a room participant's tone by the caller, each call's SDP
 *   names its node's RTP address, and each ends completed with one final event;
 * - SIGTERM of a node (a child process, http.drainTimeoutMs set) with an answered call: new calls
 *   through Kamailio all reach the other node (the caller never sees a 503), the live call goes on
 *   until the caller hangs up, then the node exits; every event of every call arrives in order.
 */
const KAMAILIO_BIN = process.env.KAMAILIO_BIN ?? '/usr/sbin/kamailio';
function kamailioMissing(): string | undefined {
  if (process.env.CI === 'true' || existsSync(KAMAILIO_BIN)) return undefined;
  return `${KAMAILIO_BIN} not found (apt-get install kamailio, or set KAMAILIO_BIN): Kamailio cluster tests skipped`;
}
function livekitMissing(): string | undefined {
  if (process.env.CI === 'true' || findLiveKitServerBinary()) return undefined;
  return 'livekit-server not found (bash .ci/run installs it): Kamailio cluster tests skipped';
}
const missing = redisServerMissing() ?? postgresServerMissing() ?? kamailioMissing() ?? livekitMissing();
if (missing) console.warn(missing);

const dbfs = (amplitude: number) => 20 * Math.log10(amplitude / Math.SQRT2);
/** Each node's tones: the caller's below 1 kHz, the room participant's above; 25 Hz off a multiple of 50. */
const CALLER_HZ = { a: 525, b: 775 } as const;
const AGENT_HZ = { a: 1525, b: 1775 } as const;
const CALLER_AMPLITUDE = 0.3;
const AGENT_AMPLITUDE = 0.4;

type NodeName = 'a' | 'b';

/** A cluster node (test/support/clusterRig.ts) and the address it sends RTP from. */
interface Node extends ClusterNode {
  name: NodeName;
  rtpAddress: string;
}

const action = (node: Node, callId: string, body: Record<string, unknown>) =>
  request(node, `/v1/calls/${callId}/actions`, { method: 'POST', body: JSON.stringify(body) });

/** The tone a recording carries (median frequency of its 250 ms blocks) and its level. */
function toneOf(samples: Int16Array, rate: number): { frequencyHz: number; levelDbfs: number } {
  const block = rate / 4;
  const frequencies: number[] = [];
  for (let at = 0; at + block <= samples.length; at += block) {
    frequencies.push(analyseTone(samples.subarray(at, at + block), rate).frequencyHz);
  }
  frequencies.sort((x, y) => x - y);
  return {
    frequencyHz: frequencies[Math.floor(frequencies.length / 2)] ?? 0,
    levelDbfs: analyseTone(samples, rate).levelDbfs,
  };
}

/** A call placed through Kamailio by our SIP caller, found where it rings. */
interface Leg {
  user: string;
  caller: SipCaller;
  peer: RtpPeer;
  /** The INVITE transaction: resolves with the answer's SDP, rejects with the refusal. */
  invite: Promise<string>;
  id: string;
  node: Node;
}

describe.skipIf(missing !== undefined)('two cluster nodes behind Kamailio', () => {
  const rig = new ClusterRig('kcluster');
  let livekit: LiveKitRig;
  let kamailio: KamailioProcess;
  let users = 0;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    await rig.start();
    // After the rig, not alongside it: they pick free ports, and two pickers at once can be handed the same one.
    livekit = await startLiveKit();
    kamailio = await startKamailio({ nodes: rig.engines.map((engine) => `127.0.0.1:${engine.sipPort}`) });
  }, 60_000);
  afterAll(async () => {
    await kamailio?.stop();
    await dispose();
    await livekit?.server.stop();
    await rig.stop();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await rig.stopNodes();
  });

  /** A node's options: livekit for the call's room, and its own RTP address. */
  const nodeOptions = (rtpAddress: string, http: Record<string, unknown> = {}) => ({
    ringTimeoutSeconds: 60,
    livekit,
    http,
    media: { bindAddress: rtpAddress, advertisedAddress: rtpAddress },
  });

  async function inProcessNode(
    name: NodeName,
    engine: SipEngineProcess,
    rtpAddress: string,
    cluster: ClusterStore,
  ): Promise<Node> {
    const node = await rig.inProcessNode(name, engine, cluster, {
      ...nodeOptions(rtpAddress),
      mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
    });
    return { ...node, name, rtpAddress };
  }

  async function childProcessNode(
    name: NodeName,
    engine: SipEngineProcess,
    rtpAddress: string,
    cluster: ClusterStore,
    http: Record<string, unknown>,
  ): Promise<Node> {
    const node = await rig.childProcessNode(name, engine, cluster, nodeOptions(rtpAddress, http));
    return { ...node, name, rtpAddress };
  }

  /** Prints what the nodes and Kamailio logged when the running test fails. */
  function dumpLogsOnFailure(): void {
    rig.dumpLogsOnFailure(() => {
      console.error(`--- kamailio ---\n${kamailio.log().split('\n').slice(-60).join('\n')}`);
    });
  }

  /** The app's calling configuration on a node: calls ring until an action decides. */
  async function configureApp(node: Node): Promise<void> {
    await putCallingConfig(node, 10);
  }

  /**
   * Calls ROUTED_NUMBER through Kamailio with a fresh caller and RTP peer, and waits until the
   * call rings at one of `among` (its owner: the in-process node that holds it, else the child).
   * A refusal before it rings fails, except, with `untilDispatched`, Kamailio's own 503 "No gateway
   * node available": its probes (every second) had not yet seen a node just started answer OPTIONS
   * 200, and the call is placed again until they have.
   */
  async function ringThroughKamailio(among: Node[], untilDispatched = false): Promise<Leg> {
    const deadline = Date.now() + 10_000;
    let delay = 50;
    for (;;) {
      try {
        return await placeCall(among);
      } catch (error) {
        const noNode = /INVITE refused: SIP\/2\.0 503 No gateway node available/.test(String(error));
        if (!untilDispatched || !noNode || Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 400);
    }
  }

  async function placeCall(among: Node[]): Promise<Leg> {
    const user = `kcaller${++users}`;
    const peer = await RtpPeer.open('PCMU');
    const caller = await SipCaller.open({ host: '127.0.0.1', port: kamailio.port }, user);
    closers.push(
      () => peer.close(),
      () => caller.close(),
    );
    const invite = caller.invite(ROUTED_NUMBER, peer.offer());
    let refusal: unknown;
    invite.catch((error: unknown) => {
      refusal = error;
    });
    let call: any;
    try {
      await until(async () => {
        if (refusal !== undefined) return true;
        call = (await callsOn(among[0] as Node, 'ringing')).find((listed) => listed.fromAddress === user);
        return call !== undefined;
      }, 10_000);
    } catch {
      throw new Error(`the call from ${user} through Kamailio rang nowhere within 10 s (INVITE unanswered)`);
    }
    if (!call) throw refusal;
    const inProcess = among.filter((node) => node.gw);
    const owner =
      inProcess.find((node) => node.gw?.gateway.calls.get(call.id) !== undefined) ??
      among.find((node) => node.child);
    if (!owner) throw new Error(`call ${call.id} rings on none of ${among.map((node) => node.name)}`);
    return { user, caller, peer, invite, id: call.id, node: owner };
  }

  /** Refuses a ringing leg (480, through any node) and checks the caller got exactly that. */
  async function refuse(leg: Leg, through: Node): Promise<void> {
    const reply = await action(through, leg.id, { action: 'reject', code: 480 });
    expect(reply.status, JSON.stringify(reply.json)).toBe(200);
    await expect(leg.invite).rejects.toThrow(/INVITE refused: SIP\/2\.0 480/);
  }

  /** Accepts a ringing leg on its node; the caller gets the answer, whose SDP names the node's RTP address. */
  async function answer(leg: Leg, tone: { frequencyHz: number; amplitude: number }): Promise<void> {
    const reply = await action(leg.node, leg.id, { action: 'accept' });
    expect(reply.status, JSON.stringify(reply.json)).toBe(200);
    expect(reply.json).toMatchObject({ id: leg.id, status: 'in_progress' });
    const sdp = await leg.invite;
    expect(/^c=IN IP4 (\S+)/m.exec(sdp)?.[1], sdp).toBe(leg.node.rtpAddress);
    leg.peer.useRemoteSdp(sdp);
    leg.peer.start(tone);
  }

  /** A room participant (token from `tokenFrom`) hears the caller's tone, and the caller the participant's. */
  async function checkAudio(leg: Leg, tokenFrom: Node): Promise<void> {
    const name = leg.node.name;
    const grant = await request(tokenFrom, `/v1/calls/${leg.id}/tokens`, {
      method: 'POST',
      body: '{"identity":"agent"}',
    });
    expect(grant.status, JSON.stringify(grant.json)).toBe(200);
    const agent: Room = await joinRoomWithToken(grant.json.url, grant.json.token);
    try {
      const tone = await publishTone(agent, { frequencyHz: AGENT_HZ[name], amplitude: AGENT_AMPLITUDE });
      const track = await nextAudioTrack(agent, `sip_${leg.id}`);
      const [roomSound, callerSound] = await Promise.all([
        recordAudio(track, { durationMs: 2000, settleMs: 300 }),
        leg.peer.recordAudible({ durationMs: 2000, settleMs: 300 }),
      ]);
      await tone.stop();
      const heard = toneOf(roomSound, 48_000);
      const back = toneOf(callerSound, leg.peer.codec.sampleRate);
      const where =
        `call on node ${name}: room heard ${heard.frequencyHz} Hz at ${heard.levelDbfs.toFixed(1)} dBFS; ` +
        `caller heard ${back.frequencyHz} Hz at ${back.levelDbfs.toFixed(1)} dBFS`;
      expect(Math.abs(heard.frequencyHz - CALLER_HZ[name]), where).toBeLessThanOrEqual(10);
      expect(heard.levelDbfs, where).toBeGreaterThan(dbfs(CALLER_AMPLITUDE) - 6);
      expect(Math.abs(back.frequencyHz - AGENT_HZ[name]), where).toBeLessThanOrEqual(10);
      expect(back.levelDbfs, where).toBeGreaterThan(dbfs(AGENT_AMPLITUDE) - 6);
    } finally {
      await agent.disconnect();
    }
  }

  /**
   * A call's events at the control plane, each once (by event id, resends folded), in the order they
   * first arrived, with the gateway id of the connection each came on.
   */
  function eventsOf(callId: string): { gatewayId: string; seq: number; event: string }[] {
    const gatewayOf = new Map<number, string>();
    const seen = new Map<string, { gatewayId: string; seq: number; event: string }>();
    for (const r of rig.plane.received) {
      const m = r.message;
      if (m?.type === 'hello') gatewayOf.set(r.connection, m.gatewayId);
      if (m?.type !== 'event' || m.data?.call?.id !== callId || seen.has(m.eventId)) continue;
      seen.set(m.eventId, { gatewayId: gatewayOf.get(r.connection) ?? '?', seq: m.seq, event: m.event });
    }
    return [...seen.values()];
  }

  /**
   * Waits for the call's final event, then checks: exactly one final event, its status events in
   * `expected` order, every event from `node`'s gateway id, arriving in seq order.
   */
  async function expectEventsInOrder(callId: string, node: Node, expected: string[]): Promise<void> {
    await rig.plane.waitFor(
      `the final event of ${callId}`,
      () => eventsOf(callId).some((e) => FINAL_EVENTS.has(e.event)),
      15_000,
    );
    const events = eventsOf(callId);
    const where = JSON.stringify(events);
    expect(
      events.filter((e) => FINAL_EVENTS.has(e.event)),
      where,
    ).toHaveLength(1);
    const statusEvents = new Set(Object.values(STATUS_EVENTS));
    expect(
      events.filter((e) => statusEvents.has(e.event)).map((e) => e.event),
      where,
    ).toEqual(expected);
    expect(new Set(events.map((e) => e.gatewayId)), where).toEqual(new Set([node.gatewayId]));
    const seqs = events.map((e) => e.seq);
    expect(seqs, where).toEqual([...seqs].sort((x, y) => x - y));
  }

  it('spreads calls over both nodes, carries audio both ways on a call taken by each, and completes both', async () => {
    dumpLogsOnFailure();
    const cluster = await rig.freshCluster();
    const a = await inProcessNode('a', rig.engines[0], '127.0.0.1', cluster);
    const b = await inProcessNode('b', rig.engines[1], '127.0.0.2', cluster);
    expect(b.gatewayId).not.toBe(a.gatewayId);
    // Each node holds calling configurations in memory (reloaded only by its own writes): set it on both.
    await configureApp(a);
    await configureApp(b);

    // Calls through Kamailio until each node rings with one; any further call is refused (480).
    const held = new Map<NodeName, Leg>();
    const reached: NodeName[] = [];
    const deadline = Date.now() + 20_000;
    while (held.size < 2) {
      if (Date.now() > deadline) throw new Error(`calls reached only ${reached.join(', ')}`);
      const leg = await ringThroughKamailio([a, b], true);
      reached.push(leg.node.name);
      if (held.has(leg.node.name)) await refuse(leg, leg.node === a ? b : a);
      else held.set(leg.node.name, leg);
    }
    const onA = held.get('a') as Leg;
    const onB = held.get('b') as Leg;
    // Both ringing, both listed on either node (from PostgreSQL), each carried by its own node only.
    for (const node of [a, b]) {
      const ringing = (await callsOn(node, 'ringing')).map((call) => call.id);
      expect(ringing.sort()).toEqual([onA.id, onB.id].sort());
    }
    expect(b.gw?.gateway.calls.get(onA.id)).toBeUndefined();
    expect(a.gw?.gateway.calls.get(onB.id)).toBeUndefined();

    await answer(onA, { frequencyHz: CALLER_HZ.a, amplitude: CALLER_AMPLITUDE });
    await answer(onB, { frequencyHz: CALLER_HZ.b, amplitude: CALLER_AMPLITUDE });
    // The participant's token is asked of the node that does not carry the call (forwarded).
    await checkAudio(onA, b);
    await checkAudio(onB, a);

    // The callers hang up: their BYEs follow Kamailio's Record-Route to the node that took each call.
    expect(await onA.caller.hangUp()).toBe(200);
    expect(await onB.caller.hangUp()).toBe(200);
    for (const leg of [onA, onB]) {
      leg.peer.stop();
      let ended: any;
      await until(async () => {
        ended = (await request(leg.node === a ? b : a, `/v1/calls/${leg.id}`)).json;
        return ended?.status === 'completed';
      }, 10_000);
      expect(ended).toMatchObject({ id: leg.id, status: 'completed', endReason: 'caller_hangup' });
      await expectEventsInOrder(leg.id, leg.node, [
        'calls.initiated',
        'calls.ringing',
        'calls.answered',
        'calls.completed',
      ]);
    }
  }, 60_000);

  it('sends every new call to the other node while a SIGTERMed node drains its answered call, then the node exits', async () => {
    dumpLogsOnFailure();
    const cluster = await rig.freshCluster();
    // b first, then a: the control plane acks the connection that came last (a's, the one that exits).
    const b = await inProcessNode('b', rig.engines[1], '127.0.0.2', cluster);
    const a = await childProcessNode('a', rig.engines[0], '127.0.0.1', cluster, { drainTimeoutMs: 30_000 });
    await configureApp(a);
    await configureApp(b);
    const child = a.child as GatewayProcess;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void child.exited.then((how) => {
      exited = how;
    });

    // A call answered on a (calls ringing at b meanwhile are refused there).
    let live: Leg | undefined;
    const refused: Leg[] = [];
    const deadline = Date.now() + 20_000;
    while (!live) {
      if (Date.now() > deadline) throw new Error('no call reached node a');
      const leg = await ringThroughKamailio([a, b], true);
      if (leg.node === a) live = leg;
      else {
        await refuse(leg, b);
        refused.push(leg);
      }
    }
    await answer(live, { frequencyHz: CALLER_HZ.a, amplitude: CALLER_AMPLITUDE });

    child.kill('SIGTERM');
    await child.waitForLog('draining: live calls may finish');
    await until(async () => (await fetch(`${a.url}/readyz`)).status === 503, 5000);

    // New calls through Kamailio: every one rings at b (a refuses with 503 and Kamailio retries,
    // or a probe already took it out); the caller hears b's 480, never a 503.
    const during: Leg[] = [];
    for (let i = 0; i < 3; i++) {
      const leg = await ringThroughKamailio([b, a]);
      expect(leg.node.name, `call ${i + 1} during the drain`).toBe('b');
      await refuse(leg, b);
      during.push(leg);
    }
    // The live call goes on on the draining node, which is still up.
    expect(exited).toBeUndefined();
    const meanwhile = await request(a, `/v1/calls/${live.id}`);
    expect(meanwhile.json).toMatchObject({ id: live.id, status: 'in_progress' });
    expect((await callsOn(b)).filter((call) => call.status === 'in_progress').map((call) => call.id)).toEqual(
      [live.id],
    );

    // The caller hangs up: the call completes, and the node, with nothing left, exits.
    expect(await live.caller.hangUp()).toBe(200);
    live.peer.stop();
    await until(async () => exited !== undefined, 15_000);
    expect(exited).toEqual({ code: 0, signal: null });
    const ended = (await request(b, `/v1/calls/${live.id}`)).json;
    expect(ended).toMatchObject({ id: live.id, status: 'completed', endReason: 'caller_hangup' });

    // Every event of every call, in order, from the node that carried it.
    await expectEventsInOrder(live.id, a, [
      'calls.initiated',
      'calls.ringing',
      'calls.answered',
      'calls.completed',
    ]);
    for (const leg of [...refused, ...during]) {
      const final = (await request(b, `/v1/calls/${leg.id}`)).json;
      expect(final.endedAt, JSON.stringify(final)).not.toBeNull();
      await expectEventsInOrder(leg.id, b, [
        'calls.initiated',
        'calls.ringing',
        STATUS_EVENTS[final.status as 'failed'],
      ]);
    }
  }, 60_000);
});
