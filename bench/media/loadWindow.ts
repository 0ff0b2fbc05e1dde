import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AgentFleet } from './agentFleet.js';
import { round } from './audioProbe.js';
import type { BenchCall } from './benchCall.js';
import type { BenchStack } from './benchStack.js';
import { loadAverage, machineTicks, sample, threadCpu } from './processTree.js';

/** Audio quality of one direction over a window, summed over all calls. */
export interface DirectionQuality {
  /** Calls whose far side was heard at all during the window. */
  callsHeard: number;
  frames: number;
  /** Percent of frames arriving > 40 ms after the previous one. */
  latePct: number;
  maxGapMs: number;
  /** Percent of 100 ms blocks where the tone was > 6 dB low or < 80 % pure. */
  badBlockPct: number;
  /** Calls with at least one bad block. */
  callsWithBadBlocks: number;
  medianToneDbfs: number;
  medianPurity: number;
  /** SIP side only: RTP packets missing by sequence number, percent. */
  lossPct?: number;
}

export interface WindowFigures {
  calls: number;
  seconds: number;
  loadAverageStart: [number, number, number];
  loadAverageEnd: [number, number, number];
  /** CPU in percent of one core over the window. */
  cpuPct: {
    gatewayMain: number;
    mediaWorkers: number;
    sipEngine: number;
    gatewayTotal: number;
    livekitServer: number;
    harnessCallers: number;
    harnessAgents: number;
    /** Everything on the machine (all cores, everyone's processes), in percent of one core. */
    machine: number;
    /** The machine less all of the above: other people's work on a shared machine. */
    others: number;
  };
  /** Media workers' CPU by thread name (percent of one core), largest first. */
  workerThreadsPct: Record<string, number>;
  rssMB: { gatewayMain: number; mediaWorkers: number; sipEngine: number; gatewayTotal: number };
  sipSide: DirectionQuality;
  roomSide: DirectionQuality;
  /** Event-loop delay of the two harness processes: above ~40 ms their own stalls show up as late frames. */
  harnessLoopDelayMaxMs: { callers: number; agents: number };
}

/**
 * Measures `seconds` of steady calls: CPU time and RSS of each process group from /proc, and what
 * both ends of every call heard (the callers' RTP legs, the room agents' probes).
 */
export async function measureWindow(
  calls: BenchCall[],
  stack: BenchStack,
  fleet: AgentFleet,
  seconds: number,
): Promise<WindowFigures> {
  const loadAverageStart = loadAverage();
  const groups = () => ({
    gatewayMain: [stack.gatewayPid],
    mediaWorkers: stack.workerPids(),
    sipEngine: [stack.engine.pid],
    livekitServer: [stack.livekitPid],
    harnessAgents: fleet.pids(),
  });
  const pids = groups();
  const before = Object.fromEntries(Object.entries(pids).map(([k, v]) => [k, sample(v).cpu]));
  const threadsBefore = workerThreads(pids.mediaWorkers);
  const ownBefore = process.cpuUsage();
  const machineBefore = machineTicks();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  for (const call of calls) call.leg.reset();
  await fleet.reset();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const wall = (performance.now() - started) / 1000;
  loop.disable();
  const threadsAfter = workerThreads(pids.mediaWorkers);
  const after = Object.fromEntries(Object.entries(pids).map(([k, v]) => [k, sample(v)]));
  const own = process.cpuUsage(ownBefore);
  const machineAfter = machineTicks();
  const agents = await fleet.read();
  const pct = (key: keyof typeof pids) => round((((after[key]?.cpu ?? 0) - (before[key] ?? 0)) / wall) * 100);
  const mb = (key: keyof typeof pids) => round((after[key]?.rss ?? 0) / 1e6);
  const cpuPct = {
    gatewayMain: pct('gatewayMain'),
    mediaWorkers: pct('mediaWorkers'),
    sipEngine: pct('sipEngine'),
    gatewayTotal: 0,
    livekitServer: pct('livekitServer'),
    harnessCallers: round(((own.user + own.system) / 1e6 / wall) * 100),
    harnessAgents: pct('harnessAgents'),
    machine: round(
      ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) *
        (availableParallelism() * 100),
    ),
    others: 0,
  };
  cpuPct.gatewayTotal = round(cpuPct.gatewayMain + cpuPct.mediaWorkers + cpuPct.sipEngine);
  cpuPct.others = round(
    Math.max(
      0,
      cpuPct.machine -
        cpuPct.gatewayTotal -
        cpuPct.livekitServer -
        cpuPct.harnessCallers -
        cpuPct.harnessAgents,
    ),
  );
  const workerThreadsPct = Object.fromEntries(
    [...threadsAfter]
      .map(
        ([name, seconds]) =>
          [name, round(((seconds - (threadsBefore.get(name) ?? 0)) / wall) * 100)] as const,
      )
      .filter(([, pct]) => pct >= 0.5)
      .sort((a, b) => b[1] - a[1]),
  );
  const rssMB = {
    gatewayMain: mb('gatewayMain'),
    mediaWorkers: mb('mediaWorkers'),
    sipEngine: mb('sipEngine'),
    gatewayTotal: 0,
  };
  rssMB.gatewayTotal = round(rssMB.gatewayMain + rssMB.mediaWorkers + rssMB.sipEngine);

  const sipWindows = calls.map((call) => ({ probe: call.leg.probe.read(), rtp: call.leg.read() }));
  const expected = sipWindows.reduce((n, w) => n + w.rtp.expected, 0);
  const lost = sipWindows.reduce((n, w) => n + w.rtp.lost, 0);
  return {
    calls: calls.length,
    seconds: round(wall),
    loadAverageStart,
    loadAverageEnd: loadAverage(),
    cpuPct,
    workerThreadsPct,
    rssMB,
    sipSide: {
      ...quality(sipWindows.map((w) => w.probe)),
      lossPct: round((lost / Math.max(1, expected)) * 100, 2),
    },
    roomSide: quality(agents.agents),
    harnessLoopDelayMaxMs: { callers: round(loop.max / 1e6), agents: round(agents.loopDelayMaxMs) },
  };
}

function workerThreads(pids: number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    for (const [name, seconds] of threadCpu(pid)) out.set(name, (out.get(name) ?? 0) + seconds);
  }
  return out;
}

function quality(
  windows: {
    frames: number;
    lateFrames: number;
    maxGapMs: number;
    blocks: number;
    badBlocks: number;
    medianToneDbfs: number;
    medianPurity: number;
  }[],
): DirectionQuality {
  const sum = (f: (w: (typeof windows)[number]) => number) => windows.reduce((n, w) => n + f(w), 0);
  const heard = windows.filter((w) => w.frames > 0);
  const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return {
    callsHeard: heard.length,
    frames: sum((w) => w.frames),
    latePct: round(
      (sum((w) => w.lateFrames) /
        Math.max(
          1,
          sum((w) => w.frames),
        )) *
        100,
      2,
    ),
    maxGapMs: round(Math.max(0, ...windows.map((w) => w.maxGapMs))),
    badBlockPct: round(
      (sum((w) => w.badBlocks) /
        Math.max(
          1,
          sum((w) => w.blocks),
        )) *
        100,
      2,
    ),
    callsWithBadBlocks: windows.filter((w) => w.badBlocks > 0).length,
    medianToneDbfs: mid(heard.map((w) => w.medianToneDbfs)),
    medianPurity: mid(heard.map((w) => w.medianPurity)),
  };
}
