export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** [0, 1); injected so tests can pin the jitter. */
  random?: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first after a loss): doubling from minMs,
 * capped at maxMs, then "equal jitter" — between half and all of that — so a fleet of gateways
 * that lost the control plane together does not come back in lock-step.
 */
export function reconnectDelayMs(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const exponent = Math.min(attempt, 30);
  const base = Math.min(options.maxMs, options.minMs * 2 ** exponent);
  return Math.round(base / 2 + random() * (base / 2));
}
