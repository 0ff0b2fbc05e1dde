import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Our own metrics carry this prefix; process and Node runtime metrics keep their standard names. */
export const METRIC_PREFIX = 'gateway_';

/**
 * One registry per gateway instance (not prom-client's global one), so two gateways in one test
 * process do not share counters, and every part gets its metrics through its constructor.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.httpRequests = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from request received to response sent, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
  }

  /** A gauge read at scrape time, for state another part owns (connections, queue depths). */
  /** A gauge read at each scrape; `read` may be async (a database query). */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
