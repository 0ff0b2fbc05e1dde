import type { PortRange } from './portAllocatorTypes.js';

/**
 * Splits the configured RTP range among `count` workers so no two workers ever try the same
 * port (each worker binds its own sockets; a shared range would make them race for ports).
 *
 * The range is counted in pairs: an even RTP port p with p + 1 (RTCP) still inside the range.
 * Worker i gets a contiguous run of floor(pairs / count) pairs, and the first (pairs % count)
 * workers one pair more. Each slice starts on an even port and ends on the odd port of its
 * last pair. A replacement worker takes over its predecessor's slice (the OS closed the dead
 * process's sockets). Example: 20000-29999 over 2 workers gives 20000-24999 and 25000-29999.
 */
export function splitPortRange(range: PortRange, count: number): PortRange[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError('worker count must be a positive integer');
  const pairs = pairsIn(range);
  if (pairs < count) {
    throw new RangeError(
      `RTP range ${range.min}-${range.max} has ${pairs} port pairs, fewer than ${count} workers`,
    );
  }
  const base = Math.floor(pairs / count);
  const extra = pairs % count;
  const slices: PortRange[] = [];
  let start = firstEvenIn(range);
  for (let index = 0; index < count; index++) {
    const size = base + (index < extra ? 1 : 0);
    slices.push({ min: start, max: start + size * 2 - 1 });
    start += size * 2;
  }
  return slices;
}

/** Number of RTP/RTCP pairs in a range. */
export function pairsIn(range: PortRange): number {
  const firstEven = firstEvenIn(range);
  return firstEven + 1 <= range.max ? Math.floor((range.max - firstEven + 1) / 2) : 0;
}

export function firstEvenIn(range: PortRange): number {
  return range.min % 2 === 0 ? range.min : range.min + 1;
}
