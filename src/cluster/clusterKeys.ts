/**
 * Redis key names of one gateway cluster. Every key starts with the hash tag `{<prefix>}`, so on a
 * Redis Cluster they all hash to one slot: the Lua scripts read keys they find at run time (the
 * lease of whichever node holds a slot), which Redis only allows within the slot of the script's
 * declared keys. One Redis (or one slot) per gateway cluster is plenty: the state is small.
 *
 *   {p}:lease:<node>         string, PX leaseMs  this node's lease (NodeInfo JSON)
 *   {p}:nodes                hash node → JSON    every node that may own state (NodeRecord)
 *   {p}:claim:<node>:<inc>   string, PX          a survivor's claim on a dead node's incarnation
 *   {p}:slots:<app>          hash call → node    the app's admitted calls, cluster-wide
 *   {p}:node:<node>:slots    hash call → app     the slots a node holds (to release them all)
 *   {p}:owners               hash call → node    which node owns each live call
 *   {p}:node:<node>:calls    set of call ids     the calls a node owns
 */
export class ClusterKeys {
  /** `{p}:`: scripts build the keys they discover at run time from it. */
  readonly base: string;

  constructor(prefix: string) {
    this.base = `{${prefix}}:`;
  }

  lease(nodeId: string): string {
    return `${this.base}lease:${nodeId}`;
  }

  get nodes(): string {
    return `${this.base}nodes`;
  }

  claim(nodeId: string, incarnation: string): string {
    return `${this.base}claim:${nodeId}:${incarnation}`;
  }

  slots(appId: string): string {
    return `${this.base}slots:${appId}`;
  }

  nodeSlots(nodeId: string): string {
    return `${this.base}node:${nodeId}:slots`;
  }

  get owners(): string {
    return `${this.base}owners`;
  }

  nodeCalls(nodeId: string): string {
    return `${this.base}node:${nodeId}:calls`;
  }
}
