/**
 * Media benchmark: real calls through the embedded SIP server, the built gateway with its media
 * workers and a real livekit-server, rising in number until audio degrades. See README.md.
 *
 *   npm run build && npx tsc -p bench/media/tsconfig.json && node dist/bench/media/run.js
 *
 * Env: CALLS=4,8,12,16,20,30,40 (steps), SECONDS=10 (window per step), BURSTS=10 (latency),
 * WORKERS=0 (media workers, 0 = one per core), CPS=10 (call set-up rate), STOP_AFTER=2 (degraded
 * steps in a row that end the ramp), CODEC=PCMU (or PCMA, G722, opus), AGENTS_PER_PROCESS=8, MAX_SECONDS=480 (watchdog), OUT=dist/bench/media/media-bench.json.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dispose } from '@livekit/rtc-node';
import type { CodecName } from '../../src/media/codecs/codecTypes.js';
import { FrameClock } from '../../src/media/session/frameClock.js';
import { AgentFleet } from './agentFleet.js';
import { percentile, round } from './audioProbe.js';
import { type BenchCall, placeCall } from './benchCall.js';
import { startBenchStack } from './benchStack.js';
import { measureLatency } from './latencyProbe.js';
import { measureWindow, type WindowFigures } from './loadWindow.js';
import { loadAverage } from './processTree.js';
import { SipCaller } from './sipCaller.js';
import { judge, printSummary, slope } from './summary.js';

const STEPS = (process.env.CALLS ?? '4,8,12,16,20,30,40').split(',').map(Number);
const SECONDS = Number(process.env.SECONDS ?? 10);
const BURSTS = Number(process.env.BURSTS ?? 10);
const WORKERS = Number(process.env.WORKERS ?? 0);
const CPS = Number(process.env.CPS ?? 10);
const RING_MS = Number(process.env.RING_MS ?? 2000);
/** Next to this file in dist/, so a run leaves nothing in the source tree. */
const OUT = process.env.OUT ?? fileURLToPath(new URL('./media-bench.json', import.meta.url));
/** On a shared machine one step can degrade from someone else's load: the ramp ends after this many in a row. */
const STOP_AFTER = Number(process.env.STOP_AFTER ?? 2);
const CODEC = (process.env.CODEC ?? 'PCMU') as CodecName;
const AGENTS_PER_PROCESS = Number(process.env.AGENTS_PER_PROCESS ?? 8);
/** A hung step (a room join that never returns) must not keep the machine busy for ever. */
const MAX_SECONDS = Number(process.env.MAX_SECONDS ?? 480);
/** Audio settles (jitter buffers, subscriptions) before a window starts. */
const SETTLE_MS = 2000;

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  log(`load average ${loadAtStart.join(' ')}; starting livekit-server, SIP server, gateway`);
  const stack = await startBenchStack({ workers: WORKERS, ringMs: RING_MS });
  const fleet = new AgentFleet(AGENTS_PER_PROCESS);
  const caller = await SipCaller.open({ host: '127.0.0.1', port: stack.engine.sipPort }).catch(
    async (error: unknown) => {
      await stack.stop();
      throw error;
    },
  );
  const clock = new FrameClock();
  const calls: BenchCall[] = [];
  let nextIndex = 0;
  const place = (signal: 'tone' | 'silence') =>
    placeCall({ index: nextIndex++, signal, codec: CODEC, stack, caller, fleet, clock });
  const steps: (WindowFigures & { verdict: ReturnType<typeof judge>; setup: SetupFigures })[] = [];
  let idle: WindowFigures | undefined;
  let latency: Awaited<ReturnType<typeof measureLatency>> | undefined;
  let latencyLoad: { start: number[]; end: number[] } | undefined;
  let stopping: Promise<void> | undefined;
  // Once, from the end of the run, the watchdog or Ctrl-C: no process or port outlives the run.
  const shutDown = () => {
    stopping ??= (async () => {
      log(`hanging up ${calls.length} calls and stopping`);
      await Promise.allSettled(calls.map((call) => call.hangup()));
      clock.stop();
      caller.close();
      await fleet.stop();
      await stack.stop();
      await dispose();
    })();
    return stopping;
  };
  const abort = (why: string) => {
    log(`${why}: stopping everything`);
    void shutDown().finally(() => process.exit(2));
  };
  const watchdog = setTimeout(() => abort(`still running after ${MAX_SECONDS} s`), MAX_SECONDS * 1000);
  watchdog.unref();
  process.once('SIGINT', () => abort('interrupted'));
  process.once('SIGTERM', () => abort('terminated'));
  try {
    log(`workers: ${stack.workerPids().length} (pids ${stack.workerPids().join(', ')})`);
    // 0. The gateway with no call: its idle cost, the intercept of the per-call figures.
    idle = await measureWindow([], stack, fleet, Math.min(SECONDS, 5));
    log(`idle: gateway ${idle.cpuPct.gatewayTotal}% CPU, ${idle.rssMB.gatewayTotal} MB`);
    // 1. Latency on a single call with silence and bursts, before any load.
    const start = loadAverage();
    const probeCall = await place('silence');
    log(`latency: ${BURSTS} bursts each way`);
    const reference = `${probeCall.sip.callId}-reference`;
    const grant = await stack.token(probeCall.callId, 'reference');
    await fleet.join({ agent: reference, ...grant, listenTo: 'agent', signal: 'silence' });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    latency = await measureLatency(probeCall, fleet, BURSTS, reference);
    await fleet.leave(reference);
    latencyLoad = { start, end: loadAverage() };
    await probeCall.hangup();

    // 2. Rising load: calls are added up to each step's count and kept for the next step.
    for (const target of STEPS) {
      const added: Promise<BenchCall>[] = [];
      while (calls.length + added.length < target) {
        added.push(place('tone'));
        await new Promise((resolve) => setTimeout(resolve, 1000 / CPS));
      }
      const settled = await Promise.allSettled(added);
      const fresh = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      calls.push(...fresh);
      const failed = settled.length - fresh.length;
      for (const s of settled) if (s.status === 'rejected') log(`call failed: ${String(s.reason)}`);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      log(`step ${target}: ${calls.length} calls up (${failed} failed to set up); measuring ${SECONDS} s`);
      const window = await measureWindow(calls, stack, fleet, SECONDS);
      const verdict = judge(window, failed);
      steps.push({ ...window, verdict, setup: setupFigures(fresh, failed) });
      log(
        `step ${target}: gateway ${window.cpuPct.gatewayTotal}% CPU, ${window.rssMB.gatewayTotal} MB; ` +
          `${verdict.clean ? 'clean' : `degraded: ${verdict.reasons.join('; ')}`}`,
      );
      const lastSteps = steps.slice(-STOP_AFTER);
      if (failed > 0 || (lastSteps.length === STOP_AFTER && lastSteps.every((s) => !s.verdict.clean))) break;
    }
  } finally {
    await shutDown();
  }
  // The highest step that was clean with every step below it clean too.
  const firstDegraded = steps.findIndex((s) => !s.verdict.clean);
  const bestClean = (firstDegraded < 0 ? steps : steps.slice(0, firstDegraded)).at(-1);
  const allCalls = steps.flatMap((s) => s.setup.samples);
  // Per-call costs are fitted over the idle window and the clean steps: past the first degraded
  // step the machine is saturated and CPU cannot grow with the calls any more.
  const fitted = [
    ...(idle ? [idle] : []),
    ...(firstDegraded < 0 ? steps : steps.slice(0, Math.max(firstDegraded, 1))),
  ];
  const result = {
    startedAt,
    command: 'npm run build && npx tsc -p bench/media/tsconfig.json && node dist/bench/media/run.js',
    settings: { steps: STEPS, seconds: SECONDS, bursts: BURSTS, workers: WORKERS, cps: CPS, codec: CODEC },
    machine: { cores: availableParallelism(), loadAverageStart: loadAtStart, loadAverageEnd: loadAverage() },
    cleanCalls: bestClean?.calls ?? 0,
    firstDegradedCalls: firstDegraded < 0 ? null : (steps[firstDegraded]?.calls ?? null),
    callsPerCore: bestClean ? round(bestClean.calls / availableParallelism()) : 0,
    callsPerGatewayCore: bestClean ? round(bestClean.calls / (bestClean.cpuPct.gatewayTotal / 100)) : 0,
    perCall: {
      gatewayCpuPct: slope(fitted.map((s) => [s.calls, s.cpuPct.gatewayTotal])),
      mediaWorkersCpuPct: slope(fitted.map((s) => [s.calls, s.cpuPct.mediaWorkers])),
      gatewayMainCpuPct: slope(fitted.map((s) => [s.calls, s.cpuPct.gatewayMain])),
      sipEngineCpuPct: slope(fitted.map((s) => [s.calls, s.cpuPct.sipEngine])),
      gatewayRssMB: slope(fitted.map((s) => [s.calls, s.rssMB.gatewayTotal])),
      livekitServerCpuPct: slope(fitted.map((s) => [s.calls, s.cpuPct.livekitServer])),
      harnessCpuPct: slope(fitted.map((s) => [s.calls, s.cpuPct.harnessCallers + s.cpuPct.harnessAgents])),
    },
    idle,
    setup: {
      calls: allCalls.length,
      inviteToRingingMs: spread(allCalls.map((c) => c.inviteToRinging)),
      inviteToOkMs: spread(allCalls.map((c) => c.inviteToOk)),
      acceptToOkMs: spread(allCalls.map((c) => c.acceptToOk)),
    },
    latency: latency ? { ...latency, loadAverage: latencyLoad } : undefined,
    steps: steps.map(({ setup: { samples: _samples, ...setup }, ...s }) => ({ ...s, setup })),
  };
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  printSummary(result);
  log(`figures written to ${OUT}`);
}

interface SetupFigures {
  failed: number;
  inviteToOkMs: { p50: number; p95: number };
  acceptToOkMs: { p50: number; p95: number };
  samples: BenchCall[];
}

function setupFigures(calls: BenchCall[], failed: number): SetupFigures {
  return {
    failed,
    inviteToOkMs: spread(calls.map((c) => c.inviteToOk)),
    acceptToOkMs: spread(calls.map((c) => c.acceptToOk)),
    samples: calls,
  };
}

function spread(values: number[]): { p50: number; p95: number } {
  return { p50: round(percentile(values, 50)), p95: round(percentile(values, 95)) };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
