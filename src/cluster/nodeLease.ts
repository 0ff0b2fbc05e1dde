import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config/clusterSchema.js';
import { ClusterKeys } from './clusterKeys.js';
import type { ClusterMetrics } from './clusterMetrics.js';
import { viaRedis } from './clusterRedis.js';
import { type ClusterScripts, clusterScripts } from './clusterScripts.js';

/** What a node's lease says about it: how to reach it and which run of the process holds it. */
export interface NodeInfo {
  nodeId: string;
  internalUrl: string;
  /** When this run of the process took its lease (ms since the epoch). */
  startedAt: number;
  /** Random per run (and per takeover): tells a restarted node from its crashed predecessor. */
  incarnation: string;
}

export interface LiveNode extends NodeInfo {
  /** The last renewal, by Redis' clock. */
  lastSeenMs: number;
}

/** A node that may still own calls or hold slots but whose lease has lapsed. */
export interface DeadNode extends NodeInfo {
  /** Its last renewal, by Redis' clock: the time its calls are ended at. */
  lastSeenMs: number;
  ownedCalls: number;
  heldSlots: number;
}

/**
 * How the lease last went:
 *   created / replaced: start (replaced: a previous run's lease was still there, it crashed);
 *   renewed; recreated: it had lapsed (Redis restarted, or was unreachable longer than leaseMs)
 *   and nobody took over, so this node's calls go on; conflict: another process holds a lease
 *   under the same node id (misconfiguration); taken_over: it lapsed and a survivor ended this
 *   node's calls: see onLeaseLost.
 */
export type LeaseStatus = 'created' | 'replaced' | 'renewed' | 'recreated' | 'conflict' | 'taken_over';

export interface LeaseStart {
  status: LeaseStatus;
  /** A still-live lease of a previous run under this node id (it crashed moments ago). */
  previous: NodeInfo | undefined;
  /** The last record of an earlier run that did not stop cleanly, with its last heartbeat. */
  previousRun: LiveNode | undefined;
}

export interface LeaseLostEvent {
  /** The incarnation whose calls a survivor ended; the lease continues under a new one. */
  incarnation: string;
  /** The one taken from now on. */
  nextIncarnation: string;
}

export interface NodeLeaseDeps {
  redis: Redis;
  config: Pick<ClusterConfig, 'nodeId' | 'internalUrl' | 'leaseMs' | 'keyPrefix'>;
  logger: Logger;
  metrics?: ClusterMetrics;
  /**
   * A survivor ended this node's calls while its lease had lapsed (a partition longer than
   * leaseMs): the composition root ends this node's local calls (their slots and ownership are
   * gone already) and carries on under a new incarnation.
   */
  onLeaseLost?: (event: LeaseLostEvent) => void;
  /**
   * The lease had lapsed and nobody took over (Redis restarted empty, or was unreachable longer
   * than leaseMs): this node's slots and call ownership may be gone with it, so the composition
   * root records them again (admit is idempotent for a call this node holds; own likewise).
   */
  onLeaseRecreated?: () => void;
  now?: () => number;
}

/** How long a survivor's claim on a dead node lasts if it never completes (it died meanwhile). */
const DEFAULT_CLAIM_MULTIPLE = 6;
/** How long a completed takeover is remembered, for a node coming back from a long partition. */
const TAKEOVER_MEMORY_MS = 24 * 3_600_000;

type RawNodeState = [string, string, string | null, number, number];

/**
 * This node's lease in Redis (`SET lease PX leaseMs`, renewed every leaseMs/3 so one or two lost
 * renewals are survived), plus the view of the other nodes a survivor needs: who is live, who died
 * still owning calls or slots, and an exactly-once claim on a dead node so one survivor, not all,
 * takes over its calls.
 */
export class NodeLease {
  private readonly keys: ClusterKeys;
  private readonly scripts: ClusterScripts;
  private readonly now: () => number;
  private info: NodeInfo;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** undefined until the first renewal: the first failure is an outage to report, too. */
  private redisUp: boolean | undefined;
  private outageSince = 0;
  private lastStatus: LeaseStatus | undefined;
  /** Set after a takeover: the next write takes a fresh lease under the new incarnation. */
  private forceNext = false;
  /** Since when this node's renewals have succeeded without a gap (0: not now). */
  private healthySince = 0;

  constructor(private readonly deps: NodeLeaseDeps) {
    this.keys = new ClusterKeys(deps.config.keyPrefix);
    this.scripts = clusterScripts(deps.redis);
    this.now = deps.now ?? Date.now;
    this.info = {
      nodeId: deps.config.nodeId,
      internalUrl: deps.config.internalUrl,
      startedAt: this.now(),
      incarnation: randomUUID(),
    };
  }

  get nodeId(): string {
    return this.info.nodeId;
  }

  get incarnation(): string {
    return this.info.incarnation;
  }

  /**
   * Whether this node may take over dead nodes now: its own lease has been renewed without a gap
   * for one leaseMs (see claim).
   */
  get canTakeOver(): boolean {
    return this.healthySince !== 0 && this.now() - this.healthySince >= this.deps.config.leaseMs;
  }

  /** How the last write of the lease went (undefined before start). */
  get status(): LeaseStatus | undefined {
    return this.lastStatus;
  }

  /**
   * Takes the lease and starts renewing it. Rejects (ClusterUnavailableError) when Redis does not
   * answer: a node that cannot take its lease must not take calls. `previous` is a lease a crashed
   * run of this node left (still live), `previousRun` the last record of any earlier run that did
   * not stop cleanly (with its last heartbeat): whatever it owned, this run ends (it owns nothing yet).
   */
  async start(): Promise<LeaseStart> {
    if (this.running) throw new Error('node lease already started');
    this.info = { ...this.info, startedAt: this.now() };
    const result = await viaRedis('take node lease', () => this.write(true));
    this.markUp();
    this.running = true;
    this.schedule();
    return { status: result.status, previous: result.previous, previousRun: result.record };
  }

  /**
   * Clean shutdown: stops renewing and deletes the lease, so peers see this node gone at once
   * (not after leaseMs). The node is forgotten unless it still owns calls or holds slots (then a
   * survivor takes them over as a dead node's).
   */
  async stop(): Promise<void> {
    this.stopRenewing();
    await viaRedis('delete node lease', () =>
      this.scripts.gwLeaseDelete(
        this.keys.lease(this.info.nodeId),
        this.keys.nodes,
        this.keys.base,
        this.info.nodeId,
        this.info.incarnation,
      ),
    );
  }

  /** Stops the renewal timer, leaving the lease to lapse (as a crash would; tests use this). */
  stopRenewing(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One renewal now (the timer's tick); rejects when Redis does not answer. */
  async renew(): Promise<LeaseStatus> {
    const { status } = await viaRedis('renew node lease', () => this.write(false));
    return status;
  }

  /** Nodes holding a live lease, this one included. */
  async liveNodes(): Promise<LiveNode[]> {
    const states = await this.nodeStates();
    return states.flatMap(({ lease, lastSeenMs }) => (lease ? [{ ...lease, lastSeenMs }] : []));
  }

  /**
   * Nodes whose lease lapsed without a clean stop (their details as of their last renewal), with
   * the calls they still own and slots they still hold; either may be 0 (a crash with no calls,
   * or slots already reclaimed by admission), and the node is still listed so that one survivor
   * `claim`s it, ends its calls, releases its slots and `completeTakeover`s it (which forgets it).
   */
  async deadNodes(): Promise<DeadNode[]> {
    const states = await this.nodeStates();
    return states.flatMap(({ lease, record, lastSeenMs, ownedCalls, heldSlots }) =>
      lease === undefined ? [{ ...record, lastSeenMs, ownedCalls, heldSlots }] : [],
    );
  }

  /**
   * Claims a dead node's takeover for this node, exactly once across survivors (SET NX on the dead
   * node's incarnation). False: another survivor has it, or the node is live again. The claim lapses
   * after `ttlMs` (default 6 leases) if it is never completed, so a survivor dying mid-takeover
   * does not strand the dead node's calls. Also false until this node's own lease has been renewed
   * without a gap for one leaseMs (after its start or a Redis outage).
   */
  async claim(dead: Pick<DeadNode, 'nodeId' | 'incarnation'>, ttlMs?: number): Promise<boolean> {
    // After a Redis outage every lease has lapsed at once, and the first node to renew would see
    // all the others dead and end their calls. A node takes nothing over until its own renewals
    // have gone through for a whole lease: by then every live node has renewed too.
    if (!this.canTakeOver) return false;
    const ttl = ttlMs ?? this.deps.config.leaseMs * DEFAULT_CLAIM_MULTIPLE;
    const claimed = await viaRedis('claim dead node', () =>
      this.scripts.gwClaimNode(
        this.keys.claim(dead.nodeId, dead.incarnation),
        this.keys.lease(dead.nodeId),
        this.info.nodeId,
        ttl,
      ),
    );
    return claimed === 1;
  }

  /**
   * After ending a claimed node's calls and releasing its slots: marks the takeover done (kept a
   * day, so the node, should it return from a partition, learns it was taken over) and forgets
   * the node when nothing is left. True when forgotten.
   */
  async completeTakeover(dead: Pick<DeadNode, 'nodeId' | 'incarnation'>): Promise<boolean> {
    const result = await viaRedis('complete takeover', () =>
      this.scripts.gwCompleteTakeover(
        this.keys.claim(dead.nodeId, dead.incarnation),
        this.keys.lease(dead.nodeId),
        this.keys.nodes,
        this.keys.base,
        dead.nodeId,
        this.info.nodeId,
        TAKEOVER_MEMORY_MS,
      ),
    );
    if (result === -1) throw new Error(`node ${dead.nodeId} was not claimed by ${this.info.nodeId}`);
    return result === 1;
  }

  private async nodeStates(): Promise<
    {
      record: NodeInfo;
      lease: NodeInfo | undefined;
      lastSeenMs: number;
      ownedCalls: number;
      heldSlots: number;
    }[]
  > {
    const flat = (await viaRedis('list nodes', () =>
      this.scripts.gwNodeStates(this.keys.nodes, this.keys.base),
    )) as (string | number | null)[];
    const states = [];
    for (let i = 0; i + 4 < flat.length; i += 5) {
      const [, recordJson, leaseJson, ownedCalls, heldSlots] = flat.slice(i, i + 5) as RawNodeState;
      const record = JSON.parse(recordJson) as NodeInfo & { lastSeenMs: number };
      states.push({
        record: toInfo(record),
        lease: leaseJson ? toInfo(JSON.parse(leaseJson) as NodeInfo) : undefined,
        lastSeenMs: record.lastSeenMs,
        ownedCalls,
        heldSlots,
      });
    }
    return states;
  }

  private async write(
    force: boolean,
  ): Promise<{ status: LeaseStatus; previous: NodeInfo | undefined; record: LiveNode | undefined }> {
    const [status, live, previousJson, recordJson] = (await this.scripts.gwLeaseWrite(
      this.keys.lease(this.info.nodeId),
      this.keys.nodes,
      this.keys.base,
      this.info.nodeId,
      JSON.stringify(this.info),
      this.info.incarnation,
      this.deps.config.leaseMs,
      force ? '1' : '0',
    )) as [LeaseStatus, number, string | null, string | null];
    this.deps.metrics?.setLiveNodes(live);
    // Held without a gap: the streak goes on. Just regained after a lapse: it starts now. Not ours
    // (conflict, taken over): no streak.
    if (status === 'recreated') this.healthySince = this.now();
    else if (status === 'conflict' || status === 'taken_over') this.healthySince = 0;
    else if (this.healthySince === 0) this.healthySince = this.now();
    const previous = previousJson ? toInfo(JSON.parse(previousJson) as NodeInfo) : undefined;
    this.noteStatus(status, previous);
    const raw = recordJson ? (JSON.parse(recordJson) as LiveNode) : undefined;
    const record =
      raw && raw.incarnation !== this.info.incarnation
        ? { ...toInfo(raw), lastSeenMs: raw.lastSeenMs }
        : undefined;
    return {
      status,
      previous: previous?.incarnation === this.info.incarnation ? undefined : previous,
      record,
    };
  }

  /** Logs changes of status only: a conflict is worth one error line, not one every tick. */
  private noteStatus(status: LeaseStatus, previous: NodeInfo | undefined): void {
    const changed = status !== this.lastStatus;
    this.lastStatus = status;
    const log = this.deps.logger;
    const node = this.info.nodeId;
    if (status === 'conflict' && changed) {
      log.error(
        { nodeId: node, other: previous },
        'cluster: another process holds a lease under this node id; each node needs its own cluster.nodeId',
      );
    } else if (status === 'recreated') {
      log.warn(
        { nodeId: node },
        'cluster: node lease had lapsed and was taken again (nobody took over its calls)',
      );
      this.deps.onLeaseRecreated?.();
    } else if (status === 'replaced') {
      log.warn({ nodeId: node, previous }, 'cluster: replaced the lease a previous run of this node left');
    } else if (status === 'taken_over') {
      const lost = this.info.incarnation;
      this.info = { ...this.info, incarnation: randomUUID() };
      this.forceNext = true;
      log.error(
        { nodeId: node, incarnation: lost },
        'cluster: node lease lapsed and a survivor ended this node’s calls; continuing under a new incarnation',
      );
      this.deps.onLeaseLost?.({ incarnation: lost, nextIncarnation: this.info.incarnation });
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), Math.floor(this.deps.config.leaseMs / 3));
    // The lease must not keep a process alive that is otherwise done (tests, a failed start).
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const force = this.forceNext;
      this.forceNext = false;
      await this.write(force);
      this.markUp();
    } catch (error) {
      this.markDown(error);
    } finally {
      this.schedule();
    }
  }

  private markUp(): void {
    if (this.redisUp === false) {
      this.deps.logger.info(
        { nodeId: this.info.nodeId, outageMs: this.now() - this.outageSince },
        'cluster: Redis answers again; node lease renewed',
      );
    }
    this.redisUp = true;
    this.deps.metrics?.setRedisUp(true);
  }

  /** Once per outage, not once per tick: a dead Redis would otherwise log three lines a lease. */
  private markDown(error: unknown): void {
    if (this.redisUp !== false) {
      this.outageSince = this.now();
      this.deps.logger.warn(
        { nodeId: this.info.nodeId, err: error },
        `cluster: Redis unreachable, node lease not renewed; retrying every ${Math.floor(this.deps.config.leaseMs / 3)} ms`,
      );
    }
    this.redisUp = false;
    this.healthySince = 0;
    this.deps.metrics?.setRedisUp(false);
  }
}

/** Only the fields of NodeInfo: records carry lastSeenMs besides, which is reported on its own. */
function toInfo(value: NodeInfo): NodeInfo {
  return {
    nodeId: value.nodeId,
    internalUrl: value.internalUrl,
    startedAt: value.startedAt,
    incarnation: value.incarnation,
  };
}
