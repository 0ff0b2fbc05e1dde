import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeTcpPort } from '../../src/launcher/freePorts.js';
import { callGatewayConfig, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { GatewayProcess } from '../support/gatewayProcess.js';
import { heapSnapshotOptions, settledHeap } from '../support/settledHeap.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { runFuzzCampaign } from '../support/sipFuzzCampaign.js';
import { AUTH_KEYS, bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';
import { request, SDP, statusOf, udpPeer } from './sipRawPeer.js';

/**
 * 100,000 mutated SIP messages (FUZZ_MESSAGES) over UDP and TCP at the embedded SIP server with the
 * built gateway attached (a trunk for 127.0.0.1 and a routed number, so INVITEs that still parse
 * reach the gateway's pipeline and ring). Neither process may die (an unhandled rejection or
 * uncaught exception ends a Node process), the SIP server ends every transaction, both heaps
 * (after a full collection) come back to within 10 % of where they started, and a normal call
 * works afterwards. Replay a failure with FUZZ_SEED.
 */
const MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

let dir: string;
let engine: SipEngineProcess;
let gateway: GatewayProcess;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sip-fuzz-'));
  const nodeOptions = heapSnapshotOptions(dir);
  engine = await startSipEngine({ nodeOptions });
  const configFile = join(dir, 'gateway.yaml');
  const httpPort = await freeTcpPort();
  writeFileSync(
    configFile,
    JSON.stringify({
      ...callGatewayConfig(engine, undefined, { sip: { ringTimeoutSeconds: 1 } }),
      // A port of our own: at level warn the gateway does not log the address it bound.
      http: { port: httpPort },
      log: { level: 'warn', format: 'json' },
      store: { path: join(dir, 'gateway.db') },
      auth: { keys: AUTH_KEYS },
    }),
  );
  gateway = new GatewayProcess(['--config', configFile], { NODE_OPTIONS: nodeOptions.join(' ') });
  url = `http://127.0.0.1:${httpPort}`;
  await until(async () => {
    const ready = await fetch(`${url}/readyz`).then(
      async (response) => ((await response.json()) as { parts: { sip: { ok: boolean } } }).parts.sip.ok,
      () => false,
    );
    return ready;
  }, 60_000);
}, 120_000);

afterAll(async () => {
  gateway?.kill('SIGKILL');
  await gateway?.exited;
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Heap in use for data: all of V8's heap but its code spaces. Code grows while the JIT compiles
 * paths the run exercised (about 0.3 MB here), which is not memory a message left behind.
 */
function dataHeap(series: (name: string) => number): number {
  return (
    series('nodejs_heap_size_used_bytes') -
    series('nodejs_heap_space_size_used_bytes{space="code"}') -
    series('nodejs_heap_space_size_used_bytes{space="code_large_object"}')
  );
}

async function gatewayHeap(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: bearer(KEYS.metrics) })).text();
  return dataHeap((name) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : Number.NaN;
  });
}

async function engineHeap(): Promise<number> {
  const counts = await engine.counts();
  return dataHeap((name) => counts[name] ?? Number.NaN);
}

async function heaps(): Promise<{ engine: number; gateway: number }> {
  return {
    engine: await settledHeap(engine.pid, dir, engineHeap),
    gateway: await settledHeap(gateway.pid, dir, gatewayHeap),
  };
}

async function liveCalls(): Promise<number> {
  const page = await fetch(`${url}/v1/calls?appId=${TEST_APP_ID}&status=ringing&limit=100`, {
    headers: bearer(KEYS.admin),
  });
  return ((await page.json()) as { data: unknown[] }).data.length;
}

/**
 * The fuzz run leaves calls ringing (their ring timeout, 1 s, ends them) and transactions in the
 * SIP server, which end with their timers (32 s at most, RFC 3261 17): nothing may stay after that.
 */
async function settle(): Promise<void> {
  await until(async () => (await liveCalls()) === 0, 60_000);
  const left = await engine.waitForCounts(
    (c) => c.transactions === 0 && c.pending_server_requests === 0,
    60_000,
  );
  expect({ transactions: left.transactions, pendingServerRequests: left.pending_server_requests }).toEqual({
    transactions: 0,
    pendingServerRequests: 0,
  });
}

const campaign = (perTransport: number, seed: number) =>
  runFuzzCampaign({ host: '127.0.0.1', port: engine.sipPort, number: ROUTED_NUMBER, perTransport, seed });

describe('the SIP server and gateway under mutated SIP', () => {
  it(`take ${MESSAGES} mutated messages over UDP and TCP without a crash or a leak, then a normal call`, async () => {
    // Warm up first (code compiled, pools filled), so the baseline is a running server's.
    await campaign(2500, SEED + 1);
    await settle();
    const before = await heaps();

    const counts = await campaign(MESSAGES / 2, SEED);
    await settle();
    const after = await heaps();
    const engineIn = await engine.counts();
    console.log(
      JSON.stringify({ seed: SEED, counts, heapBefore: before, heapAfter: after, engineMetrics: engineIn }),
    );

    expect(counts.sent.udp + counts.sent.tcp).toBe(MESSAGES);
    expect(gateway.lines.filter((line) => line.level >= 60)).toEqual([]); // no fatal (uncaught)
    expect(gateway.stderr).not.toMatch(/unhandled|uncaught|TypeError|RangeError/i);
    expect(engine.lines.join('\n')).not.toMatch(/"level":"?(fatal|60)|uncaught|unhandled/i);
    // Malformed requests get their 400 where an answer is possible, not silence.
    expect(counts.responses['400'] ?? 0).toBeGreaterThan(MESSAGES / 20);
    expect(after.engine).toBeLessThanOrEqual(before.engine * 1.1);
    expect(after.gateway).toBeLessThanOrEqual(before.gateway * 1.1);

    // Both processes alive and well: a normal INVITE rings at the gateway and ends at its ring timeout.
    const peer = await udpPeer(engine.sipPort);
    try {
      const uri = `sip:${ROUTED_NUMBER}@127.0.0.1:${engine.sipPort}`;
      const callId = randomBytes(8).toString('hex');
      const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
      peer.send(
        request(peer, engine, {
          method: 'INVITE',
          uri,
          callId,
          branch,
          body: SDP,
          extra: ['Content-Type: application/sdp'],
        }),
      );
      const statuses: number[] = [];
      let final = '';
      while (!final) {
        const message = await peer.next(10_000);
        const status = statusOf(message);
        if (!/^Call-ID: (.*)$/im.exec(message)?.[1]?.includes(callId)) continue;
        statuses.push(status);
        if (status >= 200) final = message;
      }
      const toTag = /^To:.*;tag=([^;\s]+)/im.exec(final)?.[1];
      peer.send(request(peer, engine, { method: 'ACK', uri, callId, branch, toTag }));
      expect(statuses).toEqual([100, 180, 480]);
    } finally {
      peer.close();
    }
  }, 600_000);
});
