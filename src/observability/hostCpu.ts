import { cpus } from 'node:os';
import type { ReadinessProbe } from './readiness.js';

/** Cumulative CPU time of the whole machine, all cores together, in any one unit. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface HostCpuOptions {
  /**
   * media.maxCpuUtilization: above this share of the machine (0–1, averaged) new calls are
   * refused. 1 never refuses: a machine cannot be busier than all of it.
   */
  maxUtilization: number;
  /** How often the machine's CPU times are read. */
  intervalMs?: number;
  /** Injected in tests; os.cpus() by default. */
  read?: () => CpuTimes;
}

const DEFAULT_INTERVAL_MS = 1000;
/**
 * Weight of the newest sample in the average: about the last five seconds count, so a burst
 * (a GC, a compile) does not refuse calls but sustained saturation does.
 */
const SMOOTHING = 0.3;
/** How long a caller is asked to wait before trying again (Retry-After). */
export const CPU_RETRY_AFTER_SECONDS = 10;

/**
 * How busy the machine is, as livekit/sip's health check measures it: every process's CPU, not
 * only the gateway's, because the audio of the calls already up suffers from any of them. A
 * call admitted onto a saturated machine would degrade every call on it, so past
 * `maxUtilization` new calls are refused with 503 and Retry-After, and /readyz says why.
 */
export class HostCpu {
  private readonly read: () => CpuTimes;
  private previous: CpuTimes | null = null;
  private average: number | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: HostCpuOptions) {
    this.read = options.read ?? readOsCpuTimes;
  }

  start(): void {
    if (this.timer) return;
    this.previous = this.read();
    this.timer = setInterval(() => this.sample(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The averaged share of the machine in use, 0–1; 0 before the first interval has passed. */
  get utilization(): number {
    return this.average ?? 0;
  }

  /** Whether new calls should be refused now. */
  overloaded(): boolean {
    return this.options.maxUtilization < 1 && this.utilization > this.options.maxUtilization;
  }

  /** Takes one reading (the timer's job; tests call it to step time). */
  sample(): void {
    const now = this.read();
    const before = this.previous;
    this.previous = now;
    if (!before) return;
    const total = now.total - before.total;
    if (total <= 0) return;
    const busy = Math.min(1, Math.max(0, (now.busy - before.busy) / total));
    this.average = this.average === null ? busy : this.average + SMOOTHING * (busy - this.average);
  }

  /** /readyz part `cpu`: not ready while overloaded, so a load balancer sends calls elsewhere. */
  probe(): ReadinessProbe {
    return {
      name: 'cpu',
      check: () =>
        this.overloaded()
          ? `machine CPU at ${percent(this.utilization)}, above media.maxCpuUtilization ${percent(this.options.maxUtilization)}`
          : true,
    };
  }
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function readOsCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}
