import { round } from './audioProbe.js';
import type { DirectionQuality, WindowFigures } from './loadWindow.js';

/**
 * When audio counts as degraded. The limits sit above what one call on an idle machine shows
 * (no loss, no late frames, no bad blocks: see README.md) and below what a listener notices:
 * 1 % of 100 ms blocks glitched is about one click every 10 s.
 */
export const LIMITS = { lossPct: 0.5, latePct: 2, badBlockPct: 1 };

export interface Verdict {
  clean: boolean;
  reasons: string[];
  /** The harness's own event loop stalled long enough to explain late frames by itself. */
  harnessStalled: boolean;
}

export function judge(window: WindowFigures, failedSetups: number): Verdict {
  const reasons: string[] = [];
  if (failedSetups > 0) reasons.push(`${failedSetups} calls failed to set up`);
  const check = (side: string, q: DirectionQuality) => {
    if (q.callsHeard < window.calls) reasons.push(`${side}: ${window.calls - q.callsHeard} calls silent`);
    if ((q.lossPct ?? 0) > LIMITS.lossPct) reasons.push(`${side}: ${q.lossPct}% packets lost`);
    if (q.latePct > LIMITS.latePct) reasons.push(`${side}: ${q.latePct}% frames late`);
    if (q.badBlockPct > LIMITS.badBlockPct) reasons.push(`${side}: ${q.badBlockPct}% bad 100 ms blocks`);
  };
  check('SIP side', window.sipSide);
  check('room side', window.roomSide);
  const stalled = Math.max(window.harnessLoopDelayMaxMs.callers, window.harnessLoopDelayMaxMs.agents) > 40;
  return { clean: reasons.length === 0, reasons, harnessStalled: stalled };
}

/** Least-squares slope of y over x (per call), with the intercept (the idle cost). */
export function slope(points: [number, number][]): { perCall: number; intercept: number } {
  const n = points.length;
  if (n < 2) return { perCall: Number.NaN, intercept: Number.NaN };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const perCall = sxy / sxx;
  return { perCall: round(perCall, 2), intercept: round(my - perCall * mx) };
}

/** The human-readable table, on stdout. */
export function printSummary(result: {
  machine: { cores: number; loadAverageStart: number[]; loadAverageEnd: number[] };
  cleanCalls: number;
  callsPerCore: number;
  callsPerGatewayCore: number;
  perCall: Record<string, { perCall: number; intercept: number }>;
  setup: Record<string, unknown>;
  idle?: WindowFigures | undefined;
  latency?: {
    sipToRoom: { p50: number; p95: number };
    roomToSip: { p50: number; p95: number };
    roomToRoom: { p50: number; p95: number };
    gatewayAddedP50: { sipToRoom: number; roomToSip: number };
  };
  steps: (WindowFigures & { verdict: Verdict })[];
}): void {
  const out: string[] = [];
  const pad = (v: unknown, n: number) => String(v).padStart(n);
  out.push(
    `machine: ${result.machine.cores} cores, load average ${result.machine.loadAverageStart.join(' ')} -> ${result.machine.loadAverageEnd.join(' ')}`,
  );
  out.push(
    ' calls | gw CPU%  main worker engine | lk-srv | harness call/agent | others machine | gw RSS MB | ' +
      'SIP loss% late% bad% | room late% bad% | load 1m | verdict',
  );
  const rows: (WindowFigures & { verdict?: Verdict })[] = [
    ...(result.idle ? [result.idle] : []),
    ...result.steps,
  ];
  for (const s of rows) {
    const c = s.cpuPct;
    const verdict = !s.verdict
      ? 'idle'
      : `${s.verdict.clean ? 'clean' : s.verdict.reasons.join('; ')}${s.verdict.harnessStalled ? ' (harness stalled)' : ''}`;
    out.push(
      `${pad(s.calls, 6)} | ${pad(c.gatewayTotal, 7)} ${pad(c.gatewayMain, 5)} ${pad(c.mediaWorkers, 6)} ${pad(c.sipEngine, 6)} | ` +
        `${pad(c.livekitServer, 6)} | ${pad(c.harnessCallers, 8)} ${pad(c.harnessAgents, 9)} | ${pad(c.others, 6)} ${pad(c.machine, 7)} | ` +
        `${pad(s.rssMB.gatewayTotal, 9)} | ${pad(s.sipSide.lossPct, 9)} ${pad(s.sipSide.latePct, 5)} ${pad(s.sipSide.badBlockPct, 4)} | ` +
        `${pad(s.roomSide.latePct, 10)} ${pad(s.roomSide.badBlockPct, 4)} | ${pad(`${s.loadAverageStart[0]}->${s.loadAverageEnd[0]}`, 7)} | ` +
        verdict,
    );
  }
  const last = result.steps.at(-1);
  if (last)
    out.push(
      `media worker threads at ${last.calls} calls (% of a core): ${JSON.stringify(last.workerThreadsPct)}`,
    );
  out.push(
    `clean up to ${result.cleanCalls} calls: ${result.callsPerCore} calls per machine core, ` +
      `${result.callsPerGatewayCore} calls per core of gateway CPU`,
  );
  for (const [name, fit] of Object.entries(result.perCall)) {
    out.push(`per call ${name}: ${fit.perCall} (idle ${fit.intercept})`);
  }
  out.push(`set-up: ${JSON.stringify(result.setup)}`);
  if (result.latency) {
    const l = result.latency;
    out.push(
      `one-way latency ms: SIP->room p50 ${l.sipToRoom.p50} p95 ${l.sipToRoom.p95}; room->SIP p50 ${l.roomToSip.p50} p95 ${l.roomToSip.p95}; ` +
        `reference room->room (livekit-server alone) p50 ${l.roomToRoom.p50} p95 ${l.roomToRoom.p95}; ` +
        `added by the gateway (p50) SIP->room ${l.gatewayAddedP50.sipToRoom}, room->SIP ${l.gatewayAddedP50.roomToSip}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
