/**
 * Sustained event throughput from the outbox to a local control plane, with fsync on every commit
 * (store.synchronous = full), over a real WebSocket on loopback.
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/event-channel/throughput.js [events] [seconds]
 *
 * Two figures:
 * - drain: a backlog of `events` (as after an outage) sent and acked from a cold connection;
 * - sustained: events appended one transaction each (as call transitions are) while the channel
 *   delivers them, for `seconds`; the rate of events acked end to end, with append → receipt latency.
 *
 * The control plane here acks cumulatively once per burst of received messages (as a real one
 * would after persisting a batch); each ack is one fsynced transaction in the gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { NotImplementedCommandHandler } from '../../src/control/events/commandHandler.js';
import { EventChannel } from '../../src/control/events/eventChannel.js';
import { EventChannelMetrics } from '../../src/control/events/eventChannelMetrics.js';
import { EventOutbox } from '../../src/control/events/eventOutbox.js';
import type { AppendInput } from '../../src/control/events/outboxTypes.js';
import { Metrics } from '../../src/observability/metricsRegistry.js';
import { Database } from '../../src/store/database.js';

const EVENTS = Number(process.argv[2] ?? 20_000);
const SECONDS = Number(process.argv[3] ?? 5);
const SEND_WINDOW = 500;
/** Appends per macrotask in the sustained phase: the event loop must also run the channel. */
const APPENDS_PER_TICK = 1;

interface Plane {
  url: string;
  received: Map<number, number>;
  onReceive?: (seq: number) => void;
  close(): Promise<void>;
}

async function controlPlane(): Promise<Plane> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const plane: Plane = {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: new Map(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
  server.on('connection', (socket) => {
    let highest = 0;
    let ackQueued = false;
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; seq?: number };
      if (message.type !== 'event' || message.seq === undefined) return;
      if (!plane.received.has(message.seq)) plane.received.set(message.seq, performance.now());
      plane.onReceive?.(message.seq);
      highest = Math.max(highest, message.seq);
      if (ackQueued) return;
      ackQueued = true;
      setImmediate(() => {
        ackQueued = false;
        socket.send(JSON.stringify({ type: 'ack', seq: highest }));
      });
    });
  });
  return plane;
}

function event(i: number): AppendInput {
  const callId = `call_bench_${Math.floor(i / 7)}`;
  return {
    event: 'calls.dtmf',
    callId,
    data: {
      call: {
        id: callId,
        status: 'in_progress',
        direction: 'inbound',
        fromAddress: '+15550100',
        toAddress: '+15550199',
      },
      digit: String(i % 10),
    },
  };
}

function untilAcked(channel: EventChannel, seq: number): Promise<void> {
  return new Promise((resolve) => {
    const onAck = (acked: number) => {
      if (acked < seq) return;
      channel.off('acked', onAck);
      resolve();
    };
    channel.on('acked', onAck);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-events-'));
  const logger = pino({ level: 'silent' });
  const database = new Database({ path: join(dir, 'bench.db'), synchronous: 'full', logger });
  const outbox = await new EventOutbox({
    database,
    logger,
    maxDepth: 10_000_000,
    enforceMaxDepth: true,
  }).open();
  const plane = await controlPlane();
  const channel = new EventChannel({
    url: plane.url,
    token: 'bench',
    gatewayId: outbox.gatewayId(),
    version: 'bench',
    outbox,
    commands: new NotImplementedCommandHandler(),
    logger,
    metrics: new EventChannelMetrics(new Metrics()),
    reconnect: { minMs: 50, maxMs: 1000 },
    sendWindow: SEND_WINDOW,
  });

  // Baseline: what the disk allows for one fsynced append transaction each, with no channel running.
  const baselineStart = performance.now();
  let baseline = 0;
  while (performance.now() - baselineStart < 2000) {
    outbox.commit([outbox.append(event(baseline))]);
    baseline++;
  }
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  await outbox.ack(await outbox.highestSeq());

  // Drain: the backlog is written first (one transaction), then delivered from a cold start.
  outbox.commit(Array.from({ length: EVENTS }, (_, i) => outbox.append(event(i))));
  const last = await outbox.highestSeq();
  const backlog = outbox.depth();
  const drainStart = performance.now();
  const drained = untilAcked(channel, last);
  channel.start();
  await drained;
  const drainSeconds = (performance.now() - drainStart) / 1000;

  // Sustained: one fsynced transaction per event, interleaved with delivery.
  const appendedAt = new Map<number, number>();
  let appended = 0;
  // SQLite commits each batch before commit() returns, one writer: seqs follow one another.
  let nextSeq = await outbox.highestSeq();
  const sustainStart = performance.now();
  const stopAt = sustainStart + SECONDS * 1000;
  await new Promise<void>((resolve) => {
    const produce = () => {
      for (let i = 0; i < APPENDS_PER_TICK; i++) {
        outbox.commit([outbox.append(event(appended))]);
        const seq = ++nextSeq;
        appendedAt.set(seq, performance.now());
        appended++;
      }
      if (performance.now() < stopAt) setImmediate(produce);
      else resolve();
    };
    produce();
  });
  const appendSeconds = (performance.now() - sustainStart) / 1000;
  await untilAcked(channel, await outbox.highestSeq()).catch(() => undefined);
  const sustainSeconds = (performance.now() - sustainStart) / 1000;
  const latencies = [...appendedAt]
    .map(([seq, at]) => (plane.received.get(seq) ?? Number.NaN) - at)
    .filter((ms) => Number.isFinite(ms))
    .sort((a, b) => a - b);

  await channel.stop();
  await plane.close();
  database.close();
  rmSync(dir, { recursive: true, force: true });

  const rate = (n: number, s: number) => Math.round(n / s).toLocaleString('en');
  console.log(`event channel throughput (synchronous=full, sendWindow=${SEND_WINDOW}, loopback WebSocket)`);
  console.log(
    `  baseline:  ${rate(baseline, baselineSeconds)} appends/s (1 fsynced transaction each, no channel)`,
  );
  console.log(
    `  drain:     ${backlog} backlogged events sent and acked in ${drainSeconds.toFixed(2)} s = ${rate(backlog, drainSeconds)} events/s`,
  );
  console.log(
    `  sustained: ${appended} events appended (1 fsynced transaction each) in ${appendSeconds.toFixed(2)} s = ${rate(appended, appendSeconds)} appends/s; all acked after ${sustainSeconds.toFixed(2)} s = ${rate(appended, sustainSeconds)} events/s delivered`,
  );
  console.log(
    `  latency append → control plane receipt: p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
