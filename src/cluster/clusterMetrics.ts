import { Gauge, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../observability/metricsRegistry.js';

/** How an admission ended: a slot, the app's limit, or no answer from Redis (or no lease). */
export type AdmissionOutcome = 'admitted' | 'refused' | 'unavailable';

/**
 * The cluster's metrics: admission latency with Redis in the path (the number to hold within a few
 * ms of a single node's), the live nodes as this node last saw them, and whether Redis answers.
 * One instance per registry; NodeLease and ClusterAdmission write into it.
 */
export class ClusterMetrics {
  private readonly admission: Histogram<'outcome'>;
  private readonly nodes: Gauge;
  private readonly redisUp: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.admission = new Histogram({
      name: `${METRIC_PREFIX}cluster_admission_seconds`,
      help: 'Time of one cluster-wide admission (one Redis round trip), by outcome',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.nodes = new Gauge({
      name: `${METRIC_PREFIX}cluster_nodes`,
      help: 'Gateway nodes holding a live lease, as of this node’s last lease renewal',
      registers,
    });
    this.redisUp = new Gauge({
      name: `${METRIC_PREFIX}cluster_redis_up`,
      help: '1 while this node’s last Redis command succeeded, 0 while Redis is unreachable',
      registers,
    });
  }

  observeAdmission(outcome: AdmissionOutcome, seconds: number): void {
    this.admission.observe({ outcome }, seconds);
  }

  setLiveNodes(count: number): void {
    this.nodes.set(count);
  }

  setRedisUp(up: boolean): void {
    this.redisUp.set(up ? 1 : 0);
  }
}
