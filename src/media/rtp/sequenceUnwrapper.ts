/**
 * Extends a wrapping counter (16-bit RTP sequence numbers, 32-bit timestamps) to a monotonic-ish
 * number, so reordering across a wrap compares correctly. A value is taken as the one nearest to
 * the highest seen: within half the range ahead is newer, otherwise older (RFC 3550 A.1 idea).
 */
export class WrapUnwrapper {
  private readonly range: number;
  private readonly half: number;
  private highest: number | undefined;

  constructor(bits: number) {
    this.range = 2 ** bits;
    this.half = this.range / 2;
  }

  /** The extended value of `value`; the first value seen is returned as is. */
  unwrap(value: number): number {
    const highest = this.highest;
    if (highest === undefined) {
      this.highest = value;
      return value;
    }
    const lastRaw = highest % this.range;
    let delta = value - lastRaw;
    if (delta > this.half) delta -= this.range;
    else if (delta < -this.half) delta += this.range;
    const extended = highest + delta;
    if (extended > highest) this.highest = extended;
    return extended;
  }

  /** Extended value without updating state (for lookups). */
  peek(value: number): number | undefined {
    const highest = this.highest;
    if (highest === undefined) return undefined;
    let delta = value - (highest % this.range);
    if (delta > this.half) delta -= this.range;
    else if (delta < -this.half) delta += this.range;
    return highest + delta;
  }

  get highestExtended(): number | undefined {
    return this.highest;
  }

  reset(): void {
    this.highest = undefined;
  }
}

/** 16-bit RTP sequence numbers → extended sequence numbers (cycles × 65536 + seq). */
export class SequenceUnwrapper extends WrapUnwrapper {
  constructor() {
    super(16);
  }
}

/** 32-bit RTP timestamps → extended timestamps. */
export class TimestampUnwrapper extends WrapUnwrapper {
  constructor() {
    super(32);
  }
}
