/**
 * A bounded FIFO of 16-bit samples: one per remote participant between the LiveKit stream (which
 * delivers in bursts) and the SIP clock (which takes 20 ms at a time). When a participant's audio
 * arrives faster than it is taken, the oldest samples go: latency stays bounded at the cost of a
 * click, which is the right trade for a phone call.
 */
export class PcmFifo {
  private readonly buffer: Int16Array;
  private start = 0;
  private length = 0;
  overflowedSamples = 0;

  constructor(capacitySamples: number) {
    this.buffer = new Int16Array(capacitySamples);
  }

  get available(): number {
    return this.length;
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

  /** Adds up to `out.length` samples into `out` (mixing, with clipping); returns how many were added. */
  mixInto(out: Int16Array): number {
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
    return count;
  }
}
