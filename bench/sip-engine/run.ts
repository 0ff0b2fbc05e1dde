/**
 * Benchmarks the embedded SIP engine process: sipp's built-in uac (no media) against a drachtio-srf
 * UAS through the engine at rising call rates, then memory per idle dialog.
 *
 *   npm run build && npx tsc -p bench/sip-engine/tsconfig.json && node dist/bench/sip-engine/run.js
 *
 * Options (env): RATES=100,200,400,800 (calls/s), SECONDS=10 per rate, IDLE_DIALOGS=2000.
 * Messages are counted by the engine itself (SIP in + out); "per CPU second" divides them by the
 * engine process's own CPU time, i.e. what one core sustains.
 */
import { EventEmitter } from 'node:events';
import { connectSrf, runSipp, uasApp, waitForApps } from '../../test/integration/sipEngineRig.js';
import { startSipEngine } from '../../test/support/sipEngineProcess.js';
import { cpuSeconds, rssBytes } from './procStats.js';

const RATES = (process.env.RATES ?? '100,200,400,800').split(',').map(Number);
const SECONDS = Number(process.env.SECONDS ?? 10);
const IDLE_DIALOGS = Number(process.env.IDLE_DIALOGS ?? 2000);

const sumMessages = (c: Record<string, number>): number =>
  Object.entries(c)
    .filter(([k]) => k.startsWith('messages_total{'))
    .reduce((n, [, v]) => n + v, 0);

async function main(): Promise<void> {
  const engine = await startSipEngine({ transports: ['udp'] });
  const stats = new EventEmitter() as EventEmitter & { answered?: number };
  const srf = await connectSrf(engine, uasApp(stats));
  await waitForApps(engine, 1);
  const target = `127.0.0.1:${engine.sipPort}`;
  console.log(`engine pid ${engine.pid}, SIP udp ${engine.sipPort}`);
  // Memory per idle dialog: hold IDLE_DIALOGS calls open and compare the engine's live heap with
  // the settled baseline. Heap use swings with garbage collection, so each figure is the lowest of
  // several samples (the heap just after a collection).
  const lowestHeap = async (samples: number): Promise<number> => {
    let low = Number.POSITIVE_INFINITY;
    for (let i = 0; i < samples; i++) {
      low = Math.min(low, (await engine.counts()).nodejs_heap_size_used_bytes ?? Number.NaN);
      await new Promise((r) => setTimeout(r, 500));
    }
    return low;
  };
  // Measured first, on a fresh engine, so no garbage from earlier runs blurs the baseline.
  const heap0 = await lowestHeap(10);
  const rss0 = rssBytes(engine.pid);
  const stopHolding = new AbortController();
  const held = runSipp(
    [
      '-sn',
      'uac',
      '-p',
      '0',
      '-m',
      String(IDLE_DIALOGS),
      '-l',
      String(IDLE_DIALOGS),
      '-r',
      '500',
      '-d',
      '600000',
      target,
    ],
    900,
    stopHolding.signal,
  );
  const up = await engine.waitForCounts((c) => (c.dialogs ?? 0) >= IDLE_DIALOGS, 120_000);
  // Let the INVITE transactions of the setup end (64*T1) so only dialogs remain.
  const idle = await engine.waitForCounts((c) => c.transactions === 0, 60_000);
  const heap1 = await lowestHeap(10);
  const rss1 = rssBytes(engine.pid);
  const dialogs = Math.max(idle.dialogs ?? 1, 1);
  console.log(
    `idle dialogs ${idle.dialogs} (reached ${up.dialogs}); heap ${(heap0 / 1e6).toFixed(1)} -> ${(heap1 / 1e6).toFixed(1)} MB = ` +
      `${((heap1 - heap0) / dialogs / 1024).toFixed(2)} KiB per idle dialog; RSS ${(rss0 / 1e6).toFixed(1)} -> ${(rss1 / 1e6).toFixed(1)} MB`,
  );
  stopHolding.abort();
  await held;
  await engine.waitForCounts((c) => c.transactions === 0, 60_000);

  console.log('rate(cps)  calls  failed  wall(s)  engine-cpu%  SIP msgs/s  msgs per engine CPU s');

  for (const rate of RATES) {
    const calls = rate * SECONDS;
    const before = await engine.counts();
    const cpu0 = cpuSeconds(engine.pid);
    const t0 = performance.now();
    const r = await runSipp(
      [
        '-sn',
        'uac',
        '-p',
        '0',
        '-m',
        String(calls),
        '-r',
        String(rate),
        '-l',
        String(rate * 4),
        '-d',
        '0',
        target,
      ],
      SECONDS * 6 + 60,
    );
    const wall = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(engine.pid) - cpu0;
    const after = await engine.counts();
    const messages = sumMessages(after) - sumMessages(before);
    const failed = r.code === 0 ? 0 : (r.failed ?? -1);
    console.log(
      `${String(rate).padStart(9)}  ${String(calls).padStart(5)}  ${String(failed).padStart(6)}  ${wall
        .toFixed(1)
        .padStart(7)}  ${((cpu / wall) * 100).toFixed(0).padStart(11)}  ${(messages / wall)
        .toFixed(0)
        .padStart(10)}  ${(messages / Math.max(cpu, 0.01)).toFixed(0).padStart(21)}`,
    );
  }

  srf.disconnect();
  await engine.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
