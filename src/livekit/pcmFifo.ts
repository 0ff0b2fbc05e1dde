/**
 * A bounded FIFO of 16-bit samples: one per remote participant between the LiveKit stream (which
 * delivers in bursts) and the SIP clock (which takes 20 ms at a time). When a participant's audio
 * arrives faster than it is taken, the oldest samples go: latency stays bounded at the cost of a
 * click, which is the right trade for a phone call.
 *
 * Pre-fill: at the start, and whenever a read found it empty (a participant's audio paused or
 * stalled), the FIFO gives nothing until `primeSamples` are buffered. LiveKit hands over 10 ms frames in bursts, so
 * a reader that took audio the moment it appeared would run dry before the next burst and leave a
 * gap of zeros mid-frame; the primed cushion rides out the bursts instead.
 */
export class PcmFifo {
  private readonly buffer: Int16Array;
  private start = 0;
  private length = 0;
  private primed = false;
  overflowedSamples = 0;
  /** Reads that came up short once flowing: a gap mid-frame, or the end of a participant's audio. */
  underruns = 0;

  constructor(
    capacitySamples: number,
    private readonly primeSamples = 0,
  ) {
    if (primeSamples > capacitySamples) throw new RangeError('primeSamples exceeds the capacity');
    this.buffer = new Int16Array(capacitySamples);
  }

  get available(): number {
    return this.length;
  }

  /** Whether reads take audio now (false while it refills after running empty). */
  get flowing(): boolean {
    return this.primed;
  }

  write(samples: Int16Array): void {
    const capacity = this.buffer.length;
    let input = samples;
    if (input.length > capacity) {
      this.overflowedSamples += input.length - capacity;
      input = input.subarray(input.length - capacity);
    }
    const excess = this.length + input.length - capacity;
    if (excess > 0) {
      this.start = (this.start + excess) % capacity;
      this.length -= excess;
      this.overflowedSamples += excess;
    }
    let end = (this.start + this.length) % capacity;
    for (let i = 0; i < input.length; i++) {
      this.buffer[end] = input[i] as number;
      end = end + 1 === capacity ? 0 : end + 1;
    }
    this.length += input.length;
  }

  /**
   * Adds up to `out.length` samples into `out` (mixing, with clipping); returns how many were
   * added: 0 while the FIFO fills to its pre-fill, at the start or after a read found it empty.
   */
  mixInto(out: Int16Array): number {
    if (!this.primed) {
      if (this.length === 0 || this.length < this.primeSamples) return 0;
      this.primed = true;
    }
    const count = Math.min(out.length, this.length);
    const capacity = this.buffer.length;
    let index = this.start;
    for (let i = 0; i < count; i++) {
      const sum = (out[i] as number) + (this.buffer[index] as number);
      out[i] = sum > 32767 ? 32767 : sum < -32768 ? -32768 : sum;
      index = index + 1 === capacity ? 0 : index + 1;
    }
    this.start = index;
    this.length -= count;
    if (count === 0) {
      // Ran dry (the participant's audio paused or stalled): refill before giving audio again.
      this.primed = false;
    } else if (count < out.length) {
      // A stall mid-frame: give what came, and let the next reads take what arrives meanwhile.
      this.underruns++;
    }
    return count;
  }
}
