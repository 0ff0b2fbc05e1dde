import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, callGatewayConfig, callsOf, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type KamailioProcess, startKamailio } from '../support/kamailioProcess.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';

/**
 * Three gateway nodes (each with its own embedded SIP server) behind a real Kamailio running
 * sip/kamailio/kamailio.cfg: calls are spread over the nodes; a draining node (SIGTERM with
 * http.drainTimeoutMs) gets no new call while its live one goes on; a node whose SIP server is
 * killed stops getting calls within seconds. Each call rings at a node and is refused there by
 * the app (480), so the caller's sipp sees exactly which answer came back through Kamailio.
 */
interface Node {
  name: string;
  engine: SipEngineProcess;
  gw: RunningGateway;
}

let nodes: Node[] = [];
let kamailio: KamailioProcess;

beforeAll(async () => {
  for (const name of ['a', 'b', 'c']) {
    // One after the other: they pick free ports, and two pickers at once can be handed the same one.
    const engine = await startSipEngine();
    const gw = await startInProcessGateway(
      callGatewayConfig(engine, undefined, { http: { drainTimeoutMs: 60_000 } }),
    );
    await until(async () => gw.gateway.sip.isConnected);
    nodes.push({ name, engine, gw });
  }
  kamailio = await startKamailio({ nodes: nodes.map((node) => `127.0.0.1:${node.engine.sipPort}`) });
}, 60_000);
afterAll(async () => {
  await kamailio?.stop();
  for (const node of nodes) {
    await node.gw.stop();
    await node.engine.stop();
  }
  nodes = [];
});

function callThroughKamailio(expected: number) {
  return runSipp({
    scenario: 'uac-expect-final',
    target: { host: '127.0.0.1', port: kamailio.port },
    transport: 'u1',
    service: ROUTED_NUMBER,
    keys: { expected },
    calls: 1,
    hardTimeoutMs: 30_000,
  });
}

/** The node where a new call rings, among `among`, and that call. */
async function ringingAt(among: Node[]): Promise<{ node: Node; callId: string }> {
  let found: { node: Node; callId: string } | undefined;
  await until(async () => {
    for (const node of among) {
      const [ringing] = await callsOf(node.gw, 'ringing');
      if (ringing) found = { node, callId: ringing.id };
    }
    return found !== undefined;
  }, 10_000);
  return found as { node: Node; callId: string };
}

const reject = (node: Node, callId: string) =>
  api(node.gw, `/v1/calls/${callId}/actions`, { method: 'POST', body: '{"action":"reject","code":480}' });

/** Places one call through Kamailio, finds the node it rang at, refuses it there: that node. */
async function oneCall(live: Node[]): Promise<Node> {
  const caller = callThroughKamailio(480);
  const { node, callId } = await ringingAt(live);
  await reject(node, callId);
  assertAllCallsSucceeded(await caller, 1);
  return node;
}

describe('gateway nodes behind Kamailio', () => {
  it('spreads calls over every node', async () => {
    const reached: string[] = [];
    for (let i = 0; i < 6; i++) reached.push((await oneCall(nodes)).name);
    expect(new Set(reached)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('sends no new call to a draining node, whose live call goes on and ends it', async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    // A call that rings at node a (others are refused at once until one does).
    let held: { node: Node; callId: string; caller: ReturnType<typeof callThroughKamailio> } | undefined;
    while (!held) {
      const caller = callThroughKamailio(480);
      const { node, callId } = await ringingAt(nodes);
      if (node === a) held = { node, callId, caller };
      else {
        await reject(node, callId);
        assertAllCallsSucceeded(await caller, 1);
      }
    }
    const stopped = a.gw.gateway.stop();
    await until(async () => (await fetch(`${a.gw.url}/readyz`)).status === 503);
    // Every new call goes elsewhere: refused by a with 503 and retried by Kamailio, or never sent.
    for (let i = 0; i < 4; i++) expect((await oneCall([b, c])).name).not.toBe('a');
    expect((await callsOf(a.gw)).filter((call) => call.status === 'ringing').map((call) => call.id)).toEqual([
      held.callId,
    ]);
    await reject(a, held.callId);
    assertAllCallsSucceeded(await held.caller, 1);
    await stopped;
    nodes = nodes.filter((node) => node !== a);
    await a.engine.stop();
  });

  it('takes calls on the other node within 5 s of a node’s SIP server being killed', async () => {
    const [b, c] = nodes as [Node, Node];
    await b.engine.kill();
    const killedAt = Date.now();
    for (let i = 0; i < 3; i++) {
      const caller = callThroughKamailio(480);
      const { node, callId } = await ringingAt([b, c]);
      expect(node.name).toBe('c');
      if (i === 0) expect(Date.now() - killedAt).toBeLessThan(5000);
      await reject(node, callId);
      assertAllCallsSucceeded(await caller, 1);
    }
  });
});
