import { isIP } from 'node:net';
import { pairPriority } from './iceCandidate.js';
import type { IceCandidate, IceEndpoint } from './iceTypes.js';

export type PairState = 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/**
 * A candidate pair. With one local candidate and one component a pair is known by its remote
 * endpoint alone. There is no Frozen state: with one stream and one local candidate every pair
 * would be unfrozen at once (RFC 8445 §6.1.2.6), so pairs start Waiting.
 */
export interface CandidatePair {
  remote: IceCandidate;
  endpoint: IceEndpoint;
  priority: bigint;
  state: PairState;
  /** Controlled side: USE-CANDIDATE arrived before our own check on the pair succeeded (§7.3.1.5). */
  nominateOnSuccess: boolean;
}

/** The check list of our one data stream (RFC 8445 §6.1.2), with its triggered-check queue (§6.1.4.1). */
export class CheckList {
  private pairs: CandidatePair[] = [];
  private triggered: CandidatePair[] = [];

  constructor(private readonly local: IceCandidate) {}

  /** Pairs the remote candidate with ours; null if it is not component 1 or not our address family. */
  add(remote: IceCandidate, controlling: boolean): CandidatePair | null {
    if (remote.component !== 1 || isIP(remote.address) !== isIP(this.local.address)) return null;
    const known = this.find(remote);
    if (known) return known;
    const pair: CandidatePair = {
      remote,
      endpoint: { address: remote.address, port: remote.port },
      priority: this.priorityOf(remote, controlling),
      state: 'waiting',
      nominateOnSuccess: false,
    };
    this.pairs.push(pair);
    this.pairs.sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0));
    return pair;
  }

  find(endpoint: IceEndpoint): CandidatePair | undefined {
    return this.pairs.find(
      (p) => p.endpoint.address === endpoint.address && p.endpoint.port === endpoint.port,
    );
  }

  /** Queues a triggered check; it goes before every ordinary one. */
  trigger(pair: CandidatePair): void {
    pair.state = 'waiting';
    if (!this.triggered.includes(pair)) this.triggered.push(pair);
  }

  /** The next pair to check: the triggered queue first, then the best Waiting pair (§6.1.4.2). */
  next(): CandidatePair | undefined {
    const triggered = this.triggered.shift();
    if (triggered) return triggered;
    return this.pairs.find((p) => p.state === 'waiting');
  }

  /** The highest-priority pair whose check succeeded. */
  bestSucceeded(): CandidatePair | undefined {
    return this.pairs.find((p) => p.state === 'succeeded');
  }

  /** A role switch swaps G and D in every pair's priority (§7.2.5.1, §7.3.1.1). */
  reprioritise(controlling: boolean): void {
    for (const pair of this.pairs) pair.priority = this.priorityOf(pair.remote, controlling);
    this.pairs.sort((a, b) => (a.priority > b.priority ? -1 : a.priority < b.priority ? 1 : 0));
  }

  clear(): void {
    this.pairs = [];
    this.triggered = [];
  }

  private priorityOf(remote: IceCandidate, controlling: boolean): bigint {
    return controlling
      ? pairPriority(this.local.priority, remote.priority)
      : pairPriority(remote.priority, this.local.priority);
  }
}
