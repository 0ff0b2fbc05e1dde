import type { Logger } from 'pino';
import type { ClusterNode } from '../../cluster/clusterNode.js';
import type { DeadNode } from '../../cluster/nodeLease.js';
import type { CallService } from '../callService.js';
import type { Call } from '../callTypes.js';
import { endLeftovers, type LeftoverParts } from '../leftovers.js';

/** How long a slot admitted here may wait for its call to exist before the sweep gives it back. */
const STALE_SLOT_MS = 30_000;

/** Whether a new call may take one of its app's slots across the cluster. */
export type ClusterAdmitOutcome = 'admitted' | 'limit' | 'unavailable';

/** What new calls ask of the cluster before they exist (InboundCalls, OutboundCalls). */
export interface ClusterAdmit {
  admit(appId: string, callId: string, limit: number): Promise<ClusterAdmitOutcome>;
  /** Gives back a slot admitted for a call that was then never created. */
  release(appId: string, callId: string): void;
}

/**
 * Another node's leftovers, seen as that node would see them: its calls (ending them writes
 * their events into its own event stream, after the events it wrote itself, so each call's
 * events stay in order), its SIP legs, its recordings; its stream then delivered to the control
 * plane on its behalf.
 */
export interface DeadNodeParts extends LeftoverParts {
  /** Hangs up the node's SIP legs through this node's SIP server. */
  endLegs(legs: Awaited<ReturnType<LeftoverParts['orphanedLegs']['find']>>): Promise<void>;
  /** When the node last wrote its heartbeat to the store, if ever. */
  lastAlive(): Promise<string | undefined>;
  /** Delivers the node's unacked events (as that node), then lets go. */
  deliverStream(): Promise<void>;
}

export interface ClusterCallsDeps {
  node: ClusterNode;
  calls: CallService;
  /** Closes what this node holds for a call (its media, its legs, its flow), without ending it. */
  closeLocally: (callId: string, why: string) => void;
  /** Builds the parts that act for another node over the shared store. */
  partsOf: (nodeId: string) => Promise<DeadNodeParts>;
  leaseMs: number;
  logger: Logger;
}

/**
 * This node's calls as part of a cluster: each new call takes a slot of its app's cluster-wide
 * maxConcurrentCalls (Redis) before it exists and gives it back when it ends; each live call is
 * owned by this node in Redis, so any node can find who carries it; and a pass every half lease
 * takes over the nodes whose lease expired: their live calls end with gateway_restart at their
 * last heartbeat, their callers are hung up, their rooms deleted, their slots released.
 */
export class ClusterCalls implements ClusterAdmit {
  /** Calls this node admitted and has not released, with when they were admitted. */
  private readonly admitted = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(private readonly deps: ClusterCallsDeps) {
    this.logger = deps.logger;
  }

  /** The node's Redis parts (its lease, admission, ownership). */
  get node(): ClusterNode {
    return this.deps.node;
  }

  async admit(appId: string, callId: string, limit: number): Promise<ClusterAdmitOutcome> {
    try {
      const result = await this.deps.node.admission.admit(appId, callId, limit);
      if (result.admitted) {
        // Not live yet: the stale-slot sweep leaves it alone for a while (it is created next).
        this.admitted.set(callId, Date.now());
        return 'admitted';
      }
      if (result.reason === 'limit_reached') return 'limit';
      this.logger.warn({ appId, callId, reason: result.reason }, 'cluster admission refused a call');
      return 'unavailable';
    } catch (error) {
      // Without the cluster-wide count a call could exceed its app's limit: refuse it (503).
      this.logger.warn({ err: error, appId, callId }, 'cluster admission unavailable');
      return 'unavailable';
    }
  }

  release(appId: string, callId: string): void {
    if (!this.admitted.delete(callId)) return;
    this.deps.node.admission
      .release(appId, callId)
      .catch((error: unknown) => this.logger.warn({ err: error, callId }, 'cluster: slot not released'));
  }

  /**
   * Takes the lease (after this node's own restart recovery ended what its previous run left),
   * follows this node's calls, and starts the takeover passes.
   */
  async start(): Promise<void> {
    // Its previous run's calls were ended from the store already (RestartRecovery): only their
    // ownership and slots are left to let go.
    await this.deps.node.start(async () => undefined);
    this.deps.calls.on('transition', (call, previous) => this.follow(call, previous));
    this.timer = setInterval(() => void this.pass(), Math.max(250, Math.floor(this.deps.leaseMs / 2)));
    this.timer.unref();
  }

  /**
   * This node was cut off from Redis past its lease and a survivor took it over: that survivor
   * ended every call this node had (none were admitted since: admission needs Redis) and wrote
   * their final events. Each is let go here without a second end, and what it held is closed.
   */
  relinquishAll(): void {
    const { calls } = this.deps;
    const ids = calls.liveIds();
    for (const id of ids) {
      calls.relinquish(id);
      this.admitted.delete(id);
      this.deps.closeLocally(id, 'ended by the node that took this one over');
    }
    if (ids.length > 0)
      this.logger.warn({ calls: ids.length }, 'cluster: let go of calls another node ended');
  }

  /** Stops the passes and gives up the lease (peers see this node gone at once). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.passing;
    await this.deps.node.stop();
  }

  /** One pass (takeover, then this node's own slots); resolves when it is done (tests run one on demand). */
  pass(): Promise<void> {
    this.passing ??= this.takeOverDeadNodes()
      .then(() => this.releaseStaleSlots())
      .finally(() => {
        this.passing = undefined;
      });
    return this.passing;
  }

  /**
   * Slots this node holds for calls it no longer carries: a release that failed while Redis was
   * away. Given back here, so a live node's slots never leak past its next pass.
   */
  private async releaseStaleSlots(): Promise<void> {
    const { node, calls } = this.deps;
    let held: Record<string, string>;
    try {
      held = await node.admission.slotsOf(node.lease.nodeId);
    } catch {
      return; // Redis away: the next pass looks again
    }
    for (const [callId, appId] of Object.entries(held)) {
      const admittedAt = this.admitted.get(callId);
      if (calls.get(callId) || (admittedAt !== undefined && Date.now() - admittedAt < STALE_SLOT_MS))
        continue;
      this.admitted.delete(callId);
      await node.admission.release(appId, callId).catch(() => undefined);
      this.logger.info({ callId, appId }, 'cluster: released the slot of a call no longer live here');
    }
  }

  private follow(call: Call, previous: Call['status'] | undefined): void {
    const { node } = this.deps;
    if (previous === undefined) {
      node.ownership
        .own(call.id)
        .catch((error: unknown) =>
          this.logger.warn({ err: error, callId: call.id }, 'cluster: call not owned'),
        );
      return;
    }
    if (!call.endedAt) return;
    node.ownership.disown(call.id).catch(() => undefined);
    if (!this.admitted.delete(call.id)) return;
    node.admission
      .release(call.appId, call.id)
      .catch((error: unknown) =>
        this.logger.warn(
          { err: error, callId: call.id },
          'cluster: slot not released (it goes with this node’s lease)',
        ),
      );
  }

  private async takeOverDeadNodes(): Promise<void> {
    const { lease, admission } = this.deps.node;
    if (!lease.canTakeOver) return;
    let dead: DeadNode[];
    try {
      dead = await lease.deadNodes();
    } catch (error) {
      this.logger.warn({ err: error }, 'cluster: could not list dead nodes');
      return;
    }
    for (const node of dead) {
      try {
        if (!(await lease.claim(node))) continue;
        await this.takeOver(node);
        await admission.releaseNode(node.nodeId);
        await lease.completeTakeover(node);
      } catch (error) {
        // The claim lapses; the next pass (here or on another node) finishes the job.
        this.logger.error({ err: error, deadNode: node.nodeId }, 'cluster: takeover of a dead node failed');
      }
    }
  }

  private async takeOver(dead: DeadNode): Promise<void> {
    const parts = await this.deps.partsOf(dead.nodeId);
    const log = this.logger.child({ deadNode: dead.nodeId });
    const lastAlive = await parts.lastAlive();
    // Its last heartbeat in the store (every second) when known, else its last lease renewal.
    const diedAt = new Date(lastAlive ? Math.max(Date.parse(lastAlive), 0) : dead.lastSeenMs);
    const left = await endLeftovers(parts, diedAt);
    for (const call of left.calls) await this.deps.node.ownership.disown(call.id).catch(() => undefined);
    log.warn(
      { calls: left.calls.length, sipLegs: left.legs.length, recordings: left.recordings, diedAt },
      'cluster: ended the calls of a dead node',
    );
    await parts.endLegs(left.legs);
    // Its events, the takeover's included, reach the control plane as its own stream, in order.
    void parts
      .deliverStream()
      .catch((error: unknown) => log.error({ err: error }, 'cluster: a dead node’s events not delivered'));
  }
}
