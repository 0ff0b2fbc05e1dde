import type { Redis } from 'ioredis';
import type { ClusterConfig } from '../config/clusterSchema.js';
import { ClusterKeys } from './clusterKeys.js';
import { viaRedis } from './clusterRedis.js';
import { type ClusterScripts, clusterScripts } from './clusterScripts.js';
import type { NodeInfo } from './nodeLease.js';

/**
 * A call's owner: live (with where to forward requests for the call) or dead (its lease lapsed:
 * a survivor is ending or will end the call, so requests for it get the store's view).
 */
export type CallOwner =
  | { nodeId: string; alive: true; internalUrl: string; incarnation: string }
  | { nodeId: string; alive: false };

export interface CallOwnershipDeps {
  redis: Redis;
  config: Pick<ClusterConfig, 'nodeId' | 'keyPrefix'>;
}

/**
 * Which node owns each live call: recorded when the call is created on a node, forgotten when it
 * ends. No TTL of its own: an owner's entries live as long as its lease does (ownerOf reports a
 * lapsed lease as alive: false), and a survivor taking over a dead node disowns its calls one by
 * one as it ends them, so an entry never outlives its call by more than the takeover.
 */
export class CallOwnership {
  private readonly keys: ClusterKeys;
  private readonly scripts: ClusterScripts;

  constructor(private readonly deps: CallOwnershipDeps) {
    this.keys = new ClusterKeys(deps.config.keyPrefix);
    this.scripts = clusterScripts(deps.redis);
  }

  /** Records that this node owns the call (moving it from another owner if it had one). */
  async own(callId: string): Promise<void> {
    const node = this.deps.config.nodeId;
    await viaRedis('record call owner', () =>
      this.scripts.gwOwnCall(this.keys.owners, this.keys.nodeCalls(node), this.keys.base, callId, node),
    );
  }

  /** Forgets the call's owner, whichever node it is (the call ended); idempotent. */
  async disown(callId: string): Promise<boolean> {
    const removed = await viaRedis('forget call owner', () =>
      this.scripts.gwDisownCall(this.keys.owners, this.keys.base, callId),
    );
    return removed === 1;
  }

  /** The call's owner and, if its lease is live, how to reach it; undefined: no node owns it. */
  async ownerOf(callId: string): Promise<CallOwner | undefined> {
    const reply = (await viaRedis('look up call owner', () =>
      this.scripts.gwOwnerOf(this.keys.owners, this.keys.base, callId),
    )) as [string, string | null] | null;
    if (!reply) return undefined;
    const [nodeId, leaseJson] = reply;
    if (!leaseJson) return { nodeId, alive: false };
    const lease = JSON.parse(leaseJson) as NodeInfo;
    return { nodeId, alive: true, internalUrl: lease.internalUrl, incarnation: lease.incarnation };
  }

  /** The ids of the calls a node owns (a survivor's list of calls to end). */
  async callsOwnedBy(nodeId: string): Promise<string[]> {
    return viaRedis('list owned calls', () => this.deps.redis.smembers(this.keys.nodeCalls(nodeId)));
  }
}
