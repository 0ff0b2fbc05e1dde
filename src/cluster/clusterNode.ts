import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterConfig } from '../config/clusterSchema.js';
import { CallOwnership } from './callOwnership.js';
import { ClusterAdmission } from './clusterAdmission.js';
import { ClusterMetrics } from './clusterMetrics.js';
import { connectClusterRedis, createClusterRedis } from './clusterRedis.js';
import { type LeaseLostEvent, NodeLease } from './nodeLease.js';

/**
 * Ends one call that belonged to a dead node (or to this node's crashed previous run), as the
 * calls layer does it: final status, endReason gateway_restart, ended at `endedAt` (the node's
 * last heartbeat), events sent, room deleted. It must be idempotent: two survivors never claim the
 * same node, but a survivor dying mid-takeover leaves its successor to end some calls again.
 */
export type EndOrphanedCall = (callId: string, endedAt: Date) => Promise<void>;

export interface ClusterNodeDeps {
  config: ClusterConfig;
  logger: Logger;
  registry: Registry;
  /** Default: createClusterRedis(config). Tests (or a shared client) pass their own. */
  redis?: Redis;
  onLeaseLost?: (event: LeaseLostEvent) => void;
  onLeaseRecreated?: () => void;
}

/** What one takeover pass did: per dead node claimed, the calls ended and slots released. */
export interface TakeoverReport {
  nodeId: string;
  incarnation: string;
  endedCalls: string[];
  releasedSlots: number;
}

/**
 * One gateway node's cluster parts over one Redis connection: its lease, cluster admission and
 * call ownership, and what a restart of the node lets go of. Taking over other nodes is
 * ClusterCalls' (src/calls/cluster), which ends their calls from the shared store. The composition root
 * builds one when `cluster` is configured and hands the parts to calls and control.
 */
export class ClusterNode {
  readonly redis: Redis;
  readonly lease: NodeLease;
  readonly admission: ClusterAdmission;
  readonly ownership: CallOwnership;
  private readonly logger: Logger;

  constructor(private readonly deps: ClusterNodeDeps) {
    this.logger = deps.logger.child({ component: 'cluster', nodeId: deps.config.nodeId });
    this.redis = deps.redis ?? createClusterRedis(deps.config);
    const metrics = new ClusterMetrics(deps.registry);
    const { config } = deps;
    this.lease = new NodeLease({
      redis: this.redis,
      config,
      logger: this.logger,
      metrics,
      ...(deps.onLeaseLost ? { onLeaseLost: deps.onLeaseLost } : {}),
      ...(deps.onLeaseRecreated ? { onLeaseRecreated: deps.onLeaseRecreated } : {}),
    });
    this.admission = new ClusterAdmission({ redis: this.redis, config, logger: this.logger, metrics });
    this.ownership = new CallOwnership({ redis: this.redis, config });
  }

  /**
   * Connects, takes the lease, and ends what a crashed previous run of this node left (its calls
   * and slots: this run owns nothing yet). Call before the node takes any call. Rejects when Redis
   * does not answer within a few command timeouts: a cluster node without Redis must not start.
   */
  async start(endCall: EndOrphanedCall): Promise<TakeoverReport> {
    await connectClusterRedis(this.redis, Math.max(5000, 3 * this.deps.config.commandTimeoutMs));
    const { previousRun } = await this.lease.start();
    const nodeId = this.deps.config.nodeId;
    // Ended at the previous run's last heartbeat when known (it stopped renewing then).
    const endedAt = new Date(previousRun?.lastSeenMs ?? Date.now());
    const endedCalls = await this.endCallsOf(nodeId, endCall, endedAt);
    const releasedSlots = await this.admission.releaseNode(nodeId, { force: true });
    if (endedCalls.length > 0 || releasedSlots > 0) {
      this.logger.warn(
        { previousRun, endedCalls: endedCalls.length, releasedSlots },
        'cluster: ended the calls and released the slots a previous run of this node left',
      );
    }
    return { nodeId, incarnation: previousRun?.incarnation ?? '', endedCalls, releasedSlots };
  }

  /** Clean shutdown: deletes the lease (peers see this node gone at once) and disconnects. */
  async stop(): Promise<void> {
    try {
      await this.lease.stop();
    } finally {
      this.redis.disconnect();
    }
  }

  /** Ends each call the node owns, disowning each once it is ended (so a retry skips it). */
  private async endCallsOf(nodeId: string, endCall: EndOrphanedCall, endedAt: Date): Promise<string[]> {
    const ended: string[] = [];
    for (const callId of await this.ownership.callsOwnedBy(nodeId)) {
      await endCall(callId, endedAt);
      await this.ownership.disown(callId);
      ended.push(callId);
    }
    return ended;
  }
}
