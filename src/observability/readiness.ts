/** A part the gateway needs to serve calls; `check` resolves to true, or to what is wrong. */
export interface ReadinessProbe {
  name: string;
  /**
   * Reported, but never what makes the gateway not ready: a part only some calls depend on (a
   * trunk's registration), while every other call still goes through. Its `check` may also
   * resolve to null: nothing to report, the part is left out.
   */
  advisory?: boolean;
  check(): Promise<true | string | null> | true | string | null;
}

export interface ReadinessReport {
  ready: boolean;
  parts: Record<string, { ok: boolean; detail?: string; advisory?: true }>;
}

/** A probe that takes longer than this counts as failing: a readiness endpoint must answer quickly. */
const PROBE_TIMEOUT_MS = 2000;

async function runProbe(probe: ReadinessProbe): Promise<true | string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => probe.check()), timeout]);
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the gateway can take calls now: every probe passes and it is not shutting down. */
export class Readiness {
  private readonly probes: ReadinessProbe[] = [];
  private draining = false;

  add(probe: ReadinessProbe): void {
    this.probes.push(probe);
  }

  /** From now on the gateway reports not ready, so load balancers stop sending it work. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(this.probes.map(runProbe));
    const parts: ReadinessReport['parts'] = {};
    this.probes.forEach((probe, index) => {
      const result = results[index];
      if (result === null && probe.advisory) return;
      const part = result === true || result === null ? { ok: true } : { ok: false, detail: String(result) };
      parts[probe.name] = probe.advisory ? { ...part, advisory: true } : part;
    });
    if (this.draining) parts.shutdown = { ok: false, detail: 'shutting down' };
    return { ready: Object.values(parts).every((part) => part.ok || part.advisory), parts };
  }
}
