import type { Redis } from 'ioredis';

/**
 * The Lua scripts behind the cluster's state, each one atomic and one round trip. They are
 * registered with ioredis' defineCommand, which sends EVALSHA and falls back to EVAL on NOSCRIPT
 * (a fresh or restarted Redis), so the script text crosses the wire once per connection at most.
 *
 * Every script gets the key base `{p}:` (ClusterKeys.base) as ARGV[1] and builds from it the keys it
 * only learns at run time (the lease of the node holding a slot); the key layout is documented
 * in clusterKeys.ts and must match the concatenations here.
 */

/** Milliseconds since the epoch by Redis' clock: one clock for every node's "last seen". */
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Writes this node's lease. KEYS: lease, nodes. ARGV: base, nodeId, info JSON, incarnation,
 * leaseMs, force ('1' at start: a new run replaces whatever its crashed predecessor left).
 * Returns {status, live node count, previous lease JSON or false, previous node record JSON or
 * false (with its lastSeenMs)}; statuses:
 *   created / replaced (start), renewed, recreated (the lease had lapsed: Redis restarted or
 *   was unreachable longer than leaseMs), conflict (another process holds a lease under this
 *   node id: left alone), taken_over (lapsed and a survivor claimed this incarnation: not
 *   rewritten; the caller ends its calls and starts a new incarnation).
 */
const LEASE_WRITE = `${NOW_MS}
local base, node, info, inc, ms, force = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local cur = redis.call('GET', KEYS[1])
local record = redis.call('HGET', KEYS[2], node)
local status
if force == '1' then
  status = cur and 'replaced' or 'created'
elseif cur then
  local ok, v = pcall(cjson.decode, cur)
  if ok and type(v) == 'table' and v.incarnation == inc then status = 'renewed' else status = 'conflict' end
elseif redis.call('EXISTS', base .. 'claim:' .. node .. ':' .. inc) == 1 then
  status = 'taken_over'
else
  status = 'recreated'
end
if status ~= 'conflict' and status ~= 'taken_over' then
  redis.call('SET', KEYS[1], info, 'PX', ms)
  local fresh = cjson.decode(info)
  fresh.lastSeenMs = now
  redis.call('HSET', KEYS[2], node, cjson.encode(fresh))
end
local live = 0
for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
  if redis.call('EXISTS', base .. 'lease:' .. id) == 1 then live = live + 1 end
end
return {status, live, cur or false, record or false}`;

/**
 * Clean shutdown. KEYS: lease, nodes. ARGV: base, nodeId, incarnation. Deletes the lease if it is
 * still this incarnation's, and forgets the node unless it still owns calls or slots (then a
 * survivor finds them as a dead node's). Returns 1 when the node was forgotten.
 */
const LEASE_DELETE = `local base, node, inc = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, v = pcall(cjson.decode, cur)
  if ok and type(v) == 'table' and v.incarnation == inc then redis.call('DEL', KEYS[1]) end
end
if redis.call('EXISTS', KEYS[1]) == 0
  and redis.call('SCARD', base .. 'node:' .. node .. ':calls') == 0
  and redis.call('HLEN', base .. 'node:' .. node .. ':slots') == 0 then
  redis.call('HDEL', KEYS[2], node)
  return 1
end
return 0`;

/**
 * Every known node with its lease (or false) and what it still holds. KEYS: nodes. ARGV: base.
 * Returns a flat list: nodeId, record JSON, lease JSON or false, owned calls, held slots, ….
 */
const NODE_STATES = `local base = ARGV[1]
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local id = all[i]
  out[#out + 1] = id
  out[#out + 1] = all[i + 1]
  out[#out + 1] = redis.call('GET', base .. 'lease:' .. id)
  out[#out + 1] = redis.call('SCARD', base .. 'node:' .. id .. ':calls')
  out[#out + 1] = redis.call('HLEN', base .. 'node:' .. id .. ':slots')
end
return out`;

/**
 * A survivor's claim on a dead node's incarnation, exactly once across survivors. KEYS: claim,
 * lease of the dead node. ARGV: claimer nodeId, ttlMs. Refused (0) if the node has a live lease
 * again (it restarted), or someone else claimed first. The TTL frees the claim if the claimer dies
 * mid-takeover, so another survivor can finish the job.
 */
const CLAIM_NODE = `if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`;

/**
 * The takeover is done. KEYS: claim, lease, nodes. ARGV: base, dead nodeId, claimer, keepMs.
 * The claim is kept keepMs (marked done) so the dead node, should it come back from a partition,
 * learns its calls were ended (LEASE_WRITE's taken_over); the node is forgotten once it holds
 * nothing and has no lease. Returns 1 when forgotten, 0 when something is left (or it is alive),
 * -1 when the claim is not the caller's.
 */
const COMPLETE_TAKEOVER = `local base, node, claimer, keep = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local holder = redis.call('GET', KEYS[1])
if holder ~= claimer and holder ~= ('done:' .. claimer) then return -1 end
redis.call('SET', KEYS[1], 'done:' .. claimer, 'PX', keep)
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SCARD', base .. 'node:' .. node .. ':calls') > 0 then return 0 end
if redis.call('HLEN', base .. 'node:' .. node .. ':slots') > 0 then return 0 end
redis.call('HDEL', KEYS[3], node)
return 1`;

/**
 * Admits a call into its app's cluster-wide limit. KEYS: slots of the app, this node's slot index,
 * this node's lease. ARGV: base, callId, nodeId, limit, appId. Returns {code, slots in use}:
 *   1 admitted, 2 already admitted by this node (a retry), 0 limit reached, -1 this node has no
 *   live lease (refused: a slot it took could be reclaimed as a dead node's at any moment),
 *   -2 the call holds a slot of another node.
 * Slots of nodes without a live lease are dropped only when the app is at its limit: below it
 * they change nothing, and skipping the scan keeps an admit O(1) for large limits.
 */
const ADMIT = `local base, call, node, limit, app = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if redis.call('EXISTS', KEYS[3]) == 0 then return {-1, redis.call('HLEN', KEYS[1])} end
local holder = redis.call('HGET', KEYS[1], call)
if holder then
  if holder == node then return {2, redis.call('HLEN', KEYS[1])} end
  return {-2, redis.call('HLEN', KEYS[1])}
end
local n = redis.call('HLEN', KEYS[1])
if n >= limit then
  local all = redis.call('HGETALL', KEYS[1])
  local live = {}
  for i = 1, #all, 2 do
    local owner = all[i + 1]
    if live[owner] == nil then live[owner] = redis.call('EXISTS', base .. 'lease:' .. owner) == 1 end
    if not live[owner] then
      redis.call('HDEL', KEYS[1], all[i])
      redis.call('HDEL', base .. 'node:' .. owner .. ':slots', all[i])
      n = n - 1
    end
  end
  if n >= limit then return {0, n} end
end
redis.call('HSET', KEYS[1], call, node)
redis.call('HSET', KEYS[2], call, app)
return {1, n + 1}`;

/** Gives a call's slot back, whichever node holds it. KEYS: slots of the app. ARGV: base, callId. */
const RELEASE = `local base, call = ARGV[1], ARGV[2]
local node = redis.call('HGET', KEYS[1], call)
if not node then return 0 end
redis.call('HDEL', KEYS[1], call)
redis.call('HDEL', base .. 'node:' .. node .. ':slots', call)
return 1`;

/**
 * Gives back every slot a node holds. KEYS: the node's slot index, its lease. ARGV: base, nodeId,
 * force. Without force it refuses (-1) while the node has a live lease: a survivor must not free
 * the slots of a node that came back. Returns the number of slots released.
 */
const RELEASE_NODE = `local base, node, force = ARGV[1], ARGV[2], ARGV[3]
if force ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local all = redis.call('HGETALL', KEYS[1])
local n = 0
for i = 1, #all, 2 do
  local key = base .. 'slots:' .. all[i + 1]
  if redis.call('HGET', key, all[i]) == node then
    redis.call('HDEL', key, all[i])
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
return n`;

/** Records that a node owns a call. KEYS: owners, the node's call set. ARGV: base, callId, nodeId. */
const OWN_CALL = `local base, call, node = ARGV[1], ARGV[2], ARGV[3]
local prev = redis.call('HGET', KEYS[1], call)
if prev and prev ~= node then redis.call('SREM', base .. 'node:' .. prev .. ':calls', call) end
redis.call('HSET', KEYS[1], call, node)
redis.call('SADD', KEYS[2], call)
return 1`;

/** Forgets a call's owner (the call ended). KEYS: owners. ARGV: base, callId. */
const DISOWN_CALL = `local base, call = ARGV[1], ARGV[2]
local node = redis.call('HGET', KEYS[1], call)
if not node then return 0 end
redis.call('HDEL', KEYS[1], call)
redis.call('SREM', base .. 'node:' .. node .. ':calls', call)
return 1`;

/** A call's owner and the owner's lease (false when lapsed). KEYS: owners. ARGV: base, callId. */
const OWNER_OF = `local node = redis.call('HGET', KEYS[1], ARGV[2])
if not node then return false end
return {node, redis.call('GET', ARGV[1] .. 'lease:' .. node)}`;

const SCRIPTS = {
  gwLeaseWrite: { numberOfKeys: 2, lua: LEASE_WRITE },
  gwLeaseDelete: { numberOfKeys: 2, lua: LEASE_DELETE },
  gwNodeStates: { numberOfKeys: 1, lua: NODE_STATES },
  gwClaimNode: { numberOfKeys: 2, lua: CLAIM_NODE },
  gwCompleteTakeover: { numberOfKeys: 3, lua: COMPLETE_TAKEOVER },
  gwAdmit: { numberOfKeys: 3, lua: ADMIT },
  gwRelease: { numberOfKeys: 1, lua: RELEASE },
  gwReleaseNode: { numberOfKeys: 2, lua: RELEASE_NODE },
  gwOwnCall: { numberOfKeys: 2, lua: OWN_CALL },
  gwDisownCall: { numberOfKeys: 1, lua: DISOWN_CALL },
  gwOwnerOf: { numberOfKeys: 1, lua: OWNER_OF },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Arg = string | number;

/** The scripts as typed calls: keys first, then arguments, as defineCommand expects them. */
export type ClusterScripts = Record<ScriptName, (...keysThenArgs: Arg[]) => Promise<unknown>>;

/**
 * Registers the scripts on a client (idempotent: defineCommand replaces a command of the same
 * name) and returns them typed. Each part calls this on the client it was given, so parts sharing
 * one client share the registration.
 */
export function clusterScripts(redis: Redis): ClusterScripts {
  const scripts = {} as ClusterScripts;
  for (const [name, definition] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    redis.defineCommand(name, definition);
    const command = (redis as unknown as Record<ScriptName, (...args: Arg[]) => Promise<unknown>>)[name];
    scripts[name] = (...args: Arg[]) => command.apply(redis, args);
  }
  return scripts;
}
