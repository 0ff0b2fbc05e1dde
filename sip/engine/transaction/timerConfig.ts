/** RFC 3261 timer values (17.1.1.1 and Table 4), in milliseconds. */
export interface TimerConfig {
  /** RTT estimate; base of every retransmission and timeout interval. */
  T1: number;
  /** Cap on the retransmit interval of non-INVITE requests and INVITE responses. */
  T2: number;
  /** How long a message may linger in the network; timers I and K. */
  T4: number;
  /** Timer D: how long an INVITE client absorbs final-response retransmissions over UDP. */
  timerD: number;
}

export const DEFAULT_TIMERS: Readonly<TimerConfig> = { T1: 500, T2: 4000, T4: 5000, timerD: 32_000 };

/**
 * Fills a partial config. Timer D defaults to 32 s, but never more than 64*T1, so that tests
 * shrinking T1 get proportionally short transactions without naming D.
 */
export function resolveTimers(partial: Partial<TimerConfig> = {}): TimerConfig {
  const T1 = partial.T1 ?? DEFAULT_TIMERS.T1;
  return {
    T1,
    T2: partial.T2 ?? DEFAULT_TIMERS.T2,
    T4: partial.T4 ?? DEFAULT_TIMERS.T4,
    timerD: partial.timerD ?? Math.min(DEFAULT_TIMERS.timerD, 64 * T1),
  };
}
