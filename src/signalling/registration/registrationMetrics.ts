import { Counter, Gauge, type Registry } from 'prom-client';
import type { AttemptResult, RegistrationState } from './registrationTypes.js';

/**
 * `gateway_sip_registration_up{trunk}`: 1 while the trunk is registered, 0 otherwise (read at
 * scrape time, one series per trunk that registers); `gateway_sip_registration_attempts_total
 * {trunk,result}`: each response a REGISTER exchange ended on or went on after (see AttemptResult).
 */
export class RegistrationMetrics {
  private readonly attempts: Counter<'trunk' | 'result'>;

  constructor(registry: Registry, states: () => Iterable<[string, RegistrationState]>) {
    new Gauge({
      name: 'gateway_sip_registration_up',
      help: 'Whether the trunk is registered with its registrar (1) or not (0), per trunk that registers',
      labelNames: ['trunk'],
      registers: [registry],
      collect() {
        // Trunks that stopped registering leave the metric.
        this.reset();
        for (const [trunk, state] of states()) this.set({ trunk }, state.state === 'registered' ? 1 : 0);
      },
    });
    this.attempts = new Counter({
      name: 'gateway_sip_registration_attempts_total',
      help: 'REGISTER responses (or their absence) by trunk and result: registered, unregistered, challenged, interval_too_brief, rejected, timeout, error',
      labelNames: ['trunk', 'result'],
      registers: [registry],
    });
  }

  count(trunk: string, result: AttemptResult): void {
    this.attempts.inc({ trunk, result });
  }
}
