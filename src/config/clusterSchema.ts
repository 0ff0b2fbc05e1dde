import { z } from 'zod';

/**
 * Characters a node id or key prefix may use. They end up inside Redis key names, so no `{`/`}`
 * (they would break the hash tag that keeps every cluster key in one Redis Cluster slot) and no
 * `:` (the separator between key parts, so `a:b` can never read as node `a`, part `b`).
 */
const KEY_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * Several gateway nodes sharing Redis for live state: cluster-wide call limits, which node owns
 * which call, and node leases so a survivor takes over a dead node's calls. Absent (null): a single
 * node, exactly as before.
 */
export const clusterSchema = z.strictObject({
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  redisUrl: z.url({ protocol: /^rediss?$/ }),
  /**
   * This node's name in the cluster, required and stable across restarts. It keys the node's lease,
   * the calls it owns and the slots it holds, so a node restarted under the same id finds (and
   * ends) what its previous run left behind, and two nodes can never collide by chance. Neither
   * hostname+pid (changes on every restart, so a restart looks like a crash) nor hostname alone
   * (two nodes on one machine, or containers whose hostname changes when recreated) is safe to
   * derive it from, so it is named explicitly, like drachtio's or Kamailio's node names.
   */
  nodeId: z.string().regex(KEY_PART, 'letters, digits, _ . - (at most 63), starting with a letter or digit'),
  /**
   * How other nodes reach this node's HTTP API (requests for a call this node owns are forwarded
   * there), e.g. http://10.0.0.5:8080. Not derived from http.host: that is often 0.0.0.0 or
   * 127.0.0.1, neither of which another machine can dial.
   */
  internalUrl: z.url({ protocol: /^https?$/ }),
  /**
   * A node that has not renewed its lease for this long counts as dead: its slots are given back
   * and a survivor ends its calls. Renewed every leaseMs/3, so one or two lost renewals are
   * survived. Lower: faster failover; higher: survives longer Redis hiccups.
   */
  leaseMs: z.int().min(1000).max(300_000).default(10_000),
  /**
   * Start of every Redis key, also the hash tag (`{gw}:…`): several gateway clusters can share one
   * Redis under different prefixes.
   */
  keyPrefix: z.string().regex(KEY_PART, 'letters, digits, _ . - (at most 63)').default('gw'),
  /**
   * How long one Redis command may take before it fails: a call waiting on admission is refused
   * with 503 after this rather than hang while Redis is unreachable.
   */
  commandTimeoutMs: z.int().min(50).max(30_000).default(1000),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;
