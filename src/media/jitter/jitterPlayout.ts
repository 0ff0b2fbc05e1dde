import type { Codec } from '../codecs/codecTypes.js';
import type { AdaptiveJitterBuffer } from './adaptiveJitterBuffer.js';

export interface JitterPlayoutStats {
  /** Frames of codec concealment played (lost or late packets). */
  concealedFrames: number;
  /** Frames of silence played (nothing received, or quiet between talkspurts). */
  silentFrames: number;
  /** Frames decoded from packets. */
  decodedFrames: number;
}

/**
 * Turns the jitter buffer's packets into exactly one 20 ms PCM frame per tick: decodes packets,
 * asks the codec to conceal lost frames, plays silence when nothing is playing, and splits packets
 * longer than 20 ms (a peer's ptime of 40 or 60 ms) across ticks.
 */
export class JitterPlayout {
  private readonly frameLength: number;
  private readonly pending: Int16Array;
  private pendingStart = 0;
  private pendingLength = 0;
  private readonly silence: Int16Array;
  private readonly output: Int16Array;
  private readonly stats: JitterPlayoutStats = { concealedFrames: 0, silentFrames: 0, decodedFrames: 0 };

  constructor(
    private readonly buffer: AdaptiveJitterBuffer,
    private readonly codec: Codec,
  ) {
    this.frameLength = codec.samplesPerFrame * codec.channels;
    // 120 ms is the longest packet we accept, plus one frame of leftover.
    this.pending = new Int16Array(this.frameLength * 7);
    this.silence = new Int16Array(this.frameLength);
    this.output = new Int16Array(this.frameLength);
  }

  /** The next 20 ms of PCM at the codec's rate: a view valid until the next call. */
  next(): Int16Array {
    if (this.pendingLength >= this.frameLength) return this.takePending();
    const frame = this.buffer.pop();
    if (frame.kind === 'empty') {
      this.pendingLength = 0;
      this.stats.silentFrames++;
      return this.silence;
    }
    let pcm: Int16Array;
    if (frame.kind === 'lost') {
      pcm = this.codec.conceal();
      this.stats.concealedFrames++;
    } else {
      pcm = this.codec.decode(frame.payload);
      this.stats.decodedFrames++;
    }
    if (this.pendingLength === 0 && pcm.length === this.frameLength) return pcm;
    this.append(pcm);
    if (this.pendingLength < this.frameLength) {
      // A packet shorter than 20 ms (ptime 10): pad with what the next pop brings.
      return this.pendingLength > 0 ? this.next() : this.silence;
    }
    return this.takePending();
  }

  getStats(): JitterPlayoutStats {
    return { ...this.stats };
  }

  private append(pcm: Int16Array): void {
    if (this.pendingStart > 0) {
      this.pending.copyWithin(0, this.pendingStart, this.pendingStart + this.pendingLength);
      this.pendingStart = 0;
    }
    const room = this.pending.length - this.pendingLength;
    const length = Math.min(room, pcm.length);
    this.pending.set(pcm.subarray(0, length), this.pendingLength);
    this.pendingLength += length;
  }

  /** Deliberate copy out of the FIFO so the caller gets one contiguous frame. */
  private takePending(): Int16Array {
    this.output.set(this.pending.subarray(this.pendingStart, this.pendingStart + this.frameLength));
    this.pendingStart += this.frameLength;
    this.pendingLength -= this.frameLength;
    if (this.pendingLength === 0) this.pendingStart = 0;
    return this.output;
  }
}
