import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/clusterSchema.js';
import { ClusterKeys } from './clusterKeys.js';
import type { ClusterMetrics } from './clusterMetrics.js';
import { viaRedis } from './clusterRedis.js';
import { type ClusterScripts, clusterScripts } from './clusterScripts.js';

/**
 * Why a call was not admitted:
 *   limit_reached: the app has maxConcurrentCalls live calls across the cluster (486/503 as today);
 *   lease_lost: this node has no live lease (Redis lost it, or it lapsed): refuse with 503, a slot
 *     taken now could be reclaimed as a dead node's at any moment;
 *   held_elsewhere: the call id already holds a slot on another node (a bug or a replay).
 */
export type AdmissionRefusal = 'limit_reached' | 'lease_lost' | 'held_elsewhere';

export type AdmitResult =
  | { admitted: true /** The app's slots in use, this one included. */; inUse: number }
  | { admitted: false; reason: AdmissionRefusal; inUse: number };

export interface ClusterAdmissionDeps {
  redis: Redis;
  config: Pick<ClusterConfig, 'nodeId' | 'keyPrefix'>;
  logger: Logger;
  metrics?: ClusterMetrics;
}

/**
 * Cluster-wide maxConcurrentCalls per app. An app's slots are one Redis hash, call id → node id;
 * one Lua script admits atomically (one round trip: EVALSHA), first dropping slots of nodes
 * without a live lease when the app is at its limit, so a dead node's slots come back within the
 * lease time while a live node's never expire. A per-node index of held slots lets a survivor (or
 * the node itself on restart) release all of a node's slots at once.
 *
 * Redis unreachable or too slow (commandTimeoutMs): admit() rejects with ClusterUnavailableError,
 * for the caller to refuse the call with 503.
 */
export class ClusterAdmission {
  private readonly keys: ClusterKeys;
  private readonly scripts: ClusterScripts;

  constructor(private readonly deps: ClusterAdmissionDeps) {
    this.keys = new ClusterKeys(deps.config.keyPrefix);
    this.scripts = clusterScripts(deps.redis);
  }

  /**
   * Takes one of the app's `limit` slots for the call, on this node. Admitting a call id this node
   * already holds admits it again (a retried INVITE does not take a second slot).
   */
  async admit(appId: string, callId: string, limit: number): Promise<AdmitResult> {
    const started = performance.now();
    const node = this.deps.config.nodeId;
    let reply: [number, number];
    try {
      reply = (await viaRedis('admit call', () =>
        this.scripts.gwAdmit(
          this.keys.slots(appId),
          this.keys.nodeSlots(node),
          this.keys.lease(node),
          this.keys.base,
          callId,
          node,
          limit,
          appId,
        ),
      )) as [number, number];
    } catch (error) {
      this.deps.metrics?.observeAdmission('unavailable', (performance.now() - started) / 1000);
      throw error;
    }
    const [code, inUse] = reply;
    const result: AdmitResult =
      code === 1 || code === 2
        ? { admitted: true, inUse }
        : {
            admitted: false,
            reason: code === 0 ? 'limit_reached' : code === -1 ? 'lease_lost' : 'held_elsewhere',
            inUse,
          };
    const outcome = result.admitted
      ? 'admitted'
      : result.reason === 'limit_reached'
        ? 'refused'
        : 'unavailable';
    this.deps.metrics?.observeAdmission(outcome, (performance.now() - started) / 1000);
    if (!result.admitted && result.reason !== 'limit_reached') {
      this.deps.logger.warn(
        { appId, callId, nodeId: node, reason: result.reason },
        'cluster: admission refused',
      );
    }
    return result;
  }

  /** Gives the call's slot back, whichever node holds it; idempotent. True when it held one. */
  async release(appId: string, callId: string): Promise<boolean> {
    const released = await viaRedis('release call slot', () =>
      this.scripts.gwRelease(this.keys.slots(appId), this.keys.base, callId),
    );
    return released === 1;
  }

  /**
   * Releases every slot `nodeId` holds; the count released. A survivor calls it for a dead node
   * it claimed: refused (-1 → an Error) while that node has a live lease again, so a node that came
   * back keeps its slots. `force` skips that check, for a node clearing what its own previous run
   * left before it takes any call (its lease is live: it is itself).
   */
  async releaseNode(nodeId: string, options: { force?: boolean } = {}): Promise<number> {
    const released = (await viaRedis('release node slots', () =>
      this.scripts.gwReleaseNode(
        this.keys.nodeSlots(nodeId),
        this.keys.lease(nodeId),
        this.keys.base,
        nodeId,
        options.force ? '1' : '0',
      ),
    )) as number;
    if (released === -1) throw new Error(`node ${nodeId} has a live lease: its slots are its own`);
    return released;
  }

  /**
   * The app's slots recorded in use, including any of a dead node not yet dropped (they are
   * dropped when the app reaches its limit, or when a survivor releases the node).
   */
  async inUse(appId: string): Promise<number> {
    return viaRedis('count slots', () => this.deps.redis.hlen(this.keys.slots(appId)));
  }

  /** The calls holding slots on a node, call id → app id. */
  async slotsOf(nodeId: string): Promise<Record<string, string>> {
    return viaRedis('list node slots', () => this.deps.redis.hgetall(this.keys.nodeSlots(nodeId)));
  }
}
