import { SequenceUnwrapper, TimestampUnwrapper } from '../rtp/sequenceUnwrapper.js';
import type {
  JitterBufferOptions,
  JitterBufferStats,
  JitterFrame,
  JitterPacket,
} from './jitterBufferTypes.js';

const RECENT_PLAYED = 32;
/** One second of 20 ms packets: until then the initial delay is a floor under the target. */
const TRUSTED_JITTER_SAMPLES = 50;

/**
 * An adaptive jitter buffer for one received RTP stream, popped once per 20 ms tick.
 *
 * Packets are ordered by timestamp (not sequence number, so telephone-event packets sharing the
 * sequence space leave no false gaps). Playout follows a timestamp cursor:
 * - the buffer first fills to the target delay, then plays from its oldest packet;
 * - a gap with at least the target delay buffered behind it is a loss: the frame is concealed and
 *   the cursor moves on;
 * - a gap with less than the target buffered, or an empty buffer (underrun), may be a late packet:
 *   the frame is concealed but the cursor holds, so the packet still plays if it comes and the delay
 *   grows by a frame. After a few empty frames the buffer goes quiet and refills (end of a
 *   talkspurt, DTX);
 * - delay above target + one frame for `shrinkAfterPops` pops drops one frame.
 * The target follows the RFC 3550 interarrival jitter: one frame plus three times the jitter,
 * rounded up to whole frames, between the min and max bounds.
 *
 * Storage is preallocated: payloads are copied once into fixed slots (the deliberate copy — the
 * socket's receive buffer is reused for the next datagram) and nothing is allocated per packet
 * apart from the payload view a pop returns.
 */
export class AdaptiveJitterBuffer {
  private readonly clockRate: number;
  private readonly frameTicks: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly initialDelayMs: number;
  private readonly maxPayloadSize: number;
  private readonly resyncTicks: number;
  private readonly maxUnderrunConcealFrames: number;
  private readonly shrinkAfterPops: number;

  // Slot storage, indexed by slot number.
  private readonly storage: Uint8Array;
  private readonly slotTimestamp: Float64Array;
  private readonly slotSequence: Float64Array;
  private readonly slotDuration: Float64Array;
  private readonly slotLength: Int32Array;
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  /** Slot numbers of buffered packets in timestamp order. */
  private readonly queue: Int32Array;
  private queued = 0;

  private readonly sequences = new SequenceUnwrapper();
  private readonly timestamps = new TimestampUnwrapper();
  private ssrc: number | undefined;
  private playing = false;
  /** Next timestamp to play (extended); undefined until the first playout. */
  private playoutTimestamp: number | undefined;
  private underrunFrames = 0;
  /** Consecutive ticks held at a gap waiting for a late packet. */
  private gapHolds = 0;
  private aboveTargetPops = 0;
  private readonly recentPlayed = new Float64Array(RECENT_PLAYED).fill(Number.NaN);
  private recentIndex = 0;
  /** Slot of the packet the last pop returned: kept out of the free list until the next pop. */
  private heldSlot = -1;

  // RFC 3550 A.8 jitter state, in timestamp units.
  private jitter = 0;
  private lastTransit: number | undefined;
  /** Jitter samples since the last resync: the estimate is trusted after a second of them. */
  private jitterSamples = 0;

  private readonly stats = {
    received: 0,
    lost: 0,
    late: 0,
    duplicates: 0,
    concealed: 0,
    dropped: 0,
    resyncs: 0,
  };
  private readonly frame: JitterFrame;

  constructor(options: JitterBufferOptions) {
    this.clockRate = options.clockRate;
    this.frameTicks = options.ticksPerFrame;
    this.minDelayMs = options.minDelayMs ?? 40;
    this.maxDelayMs = Math.max(this.minDelayMs, options.maxDelayMs ?? 300);
    this.initialDelayMs = options.initialDelayMs ?? 60;
    this.maxPayloadSize = options.maxPayloadSize ?? 1500;
    this.resyncTicks = ((options.resyncThresholdMs ?? 1000) * this.clockRate) / 1000;
    this.maxUnderrunConcealFrames = options.maxUnderrunConcealFrames ?? 3;
    this.shrinkAfterPops = options.shrinkAfterPops ?? 10;
    const capacity = options.capacity ?? 32;
    this.storage = new Uint8Array(capacity * this.maxPayloadSize);
    this.slotTimestamp = new Float64Array(capacity);
    this.slotSequence = new Float64Array(capacity);
    this.slotDuration = new Float64Array(capacity);
    this.slotLength = new Int32Array(capacity);
    this.freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeSlots[i] = capacity - 1 - i;
    this.freeCount = capacity;
    this.queue = new Int32Array(capacity);
    this.frame = {
      kind: 'empty',
      payload: this.storage.subarray(0, 0),
      timestamp: 0,
      sequenceNumber: -1,
      durationTicks: this.frameTicks,
    };
  }

  /** Adds a received packet; `arrivalMs` is the receive time on a monotonic clock. */
  insert(packet: JitterPacket, arrivalMs: number): void {
    this.stats.received++;
    if (this.ssrc !== undefined && packet.ssrc !== this.ssrc) this.resync();
    this.ssrc = packet.ssrc;
    let timestamp = this.timestamps.unwrap(packet.timestamp);
    if (
      this.playoutTimestamp !== undefined &&
      Math.abs(timestamp - this.playoutTimestamp) > this.resyncTicks
    ) {
      if (this.playing || this.queued > 0) {
        this.resync();
        timestamp = this.timestamps.unwrap(packet.timestamp);
      } else {
        // Quiet (after a talkspurt, DTX): a far timestamp is just the next talkspurt.
        this.playoutTimestamp = undefined;
      }
    }
    const sequence = this.sequences.unwrap(packet.sequenceNumber);
    this.updateJitter(timestamp, arrivalMs);

    const duration = packet.durationTicks ?? this.frameTicks;
    if (this.playoutTimestamp !== undefined && timestamp + duration <= this.playoutTimestamp) {
      if (this.wasPlayed(sequence)) this.stats.duplicates++;
      else this.stats.late++;
      return;
    }
    if (this.findQueued(timestamp, sequence)) {
      this.stats.duplicates++;
      return;
    }
    if (packet.payload.length > this.maxPayloadSize) {
      this.stats.dropped++;
      return;
    }
    if (this.freeCount === 0) {
      if (this.queued === 0) {
        this.stats.dropped++;
        return;
      }
      // Full: the oldest packet goes, so latency stays bounded.
      this.releaseAt(0);
      this.stats.dropped++;
    }
    const slot = this.freeSlots[--this.freeCount] as number;
    this.storage.set(packet.payload, slot * this.maxPayloadSize);
    this.slotLength[slot] = packet.payload.length;
    this.slotTimestamp[slot] = timestamp;
    this.slotSequence[slot] = sequence;
    this.slotDuration[slot] = duration;
    this.enqueue(slot, timestamp);
  }

  /** The frame for this 20 ms tick. The returned object is reused by the next pop. */
  pop(): JitterFrame {
    this.releaseHeld();
    const frame = this.frame;
    frame.sequenceNumber = -1;
    frame.durationTicks = this.frameTicks;
    if (!this.playing) {
      if (this.queued === 0 || this.bufferedTicks() < this.ticksFor(this.targetDelayMs())) {
        return this.empty();
      }
      this.playing = true;
      this.playoutTimestamp = this.slotTimestamp[this.queue[0] as number] as number;
      this.aboveTargetPops = 0;
    }
    const playout = this.playoutTimestamp as number;
    this.discardStale(playout);
    this.shrinkIfAboveTarget();

    const cursor = this.playoutTimestamp as number;
    if (this.queued > 0) {
      const slot = this.queue[0] as number;
      const timestamp = this.slotTimestamp[slot] as number;
      if (timestamp < cursor + this.frameTicks) return this.play(slot);
      const target = this.ticksFor(this.targetDelayMs());
      if (this.bufferedTicks() < target && this.gapHolds * this.frameTicks < target) {
        // A gap while below target: the packet may only be late. Conceal and hold the cursor,
        // which is how the delay grows toward a target that jitter has raised. Holds are bounded
        // by the target so a stream that stops behind a gap still moves on.
        this.gapHolds++;
        this.stats.concealed++;
        frame.kind = 'lost';
        frame.timestamp = cursor;
        return frame;
      }
      // A gap with enough audio buffered behind it: this frame is lost.
      this.gapHolds = 0;
      this.stats.lost++;
      this.stats.concealed++;
      this.underrunFrames = 0;
      frame.kind = 'lost';
      frame.timestamp = cursor;
      this.playoutTimestamp = cursor + this.frameTicks;
      return frame;
    }
    // Underrun: conceal while holding the cursor, so a late packet can still play.
    this.underrunFrames++;
    if (this.underrunFrames <= this.maxUnderrunConcealFrames) {
      this.stats.concealed++;
      frame.kind = 'lost';
      frame.timestamp = cursor;
      return frame;
    }
    this.playing = false;
    return this.empty();
  }

  getStats(): JitterBufferStats {
    return {
      ...this.stats,
      currentDelayMs: this.ticksToMs(this.bufferedTicks()),
      targetDelayMs: this.targetDelayMs(),
      jitterMs: this.ticksToMs(this.jitter),
    };
  }

  /** RFC 3550 interarrival jitter in timestamp units (what an RTCP report block carries). */
  get interarrivalJitter(): number {
    return this.jitter;
  }

  /** Forget everything buffered (hold, re-INVITE with a new stream); statistics are kept. */
  flush(): void {
    this.resync(false);
  }

  private play(slot: number): JitterFrame {
    const frame = this.frame;
    const offset = slot * this.maxPayloadSize;
    frame.kind = 'packet';
    frame.payload = this.storage.subarray(offset, offset + (this.slotLength[slot] as number));
    frame.timestamp = this.slotTimestamp[slot] as number;
    frame.sequenceNumber = this.slotSequence[slot] as number;
    frame.durationTicks = this.slotDuration[slot] as number;
    this.playoutTimestamp = frame.timestamp + frame.durationTicks;
    this.rememberPlayed(frame.sequenceNumber);
    this.underrunFrames = 0;
    this.gapHolds = 0;
    // Out of the queue, but not yet free: the payload view must survive inserts until the next pop.
    this.queue.copyWithin(0, 1, this.queued);
    this.queued--;
    this.heldSlot = slot;
    return frame;
  }

  private empty(): JitterFrame {
    this.frame.kind = 'empty';
    this.frame.timestamp = this.playoutTimestamp ?? 0;
    return this.frame;
  }

  /** Packets whose whole duration lies before the cursor can no longer play. */
  private discardStale(cursor: number): void {
    while (this.queued > 0) {
      const slot = this.queue[0] as number;
      if ((this.slotTimestamp[slot] as number) + (this.slotDuration[slot] as number) > cursor) break;
      this.releaseAt(0);
      this.stats.dropped++;
    }
  }

  private shrinkIfAboveTarget(): void {
    const target = this.ticksFor(this.targetDelayMs());
    if (this.bufferedTicks() > target + this.frameTicks) this.aboveTargetPops++;
    else this.aboveTargetPops = 0;
    if (this.aboveTargetPops < this.shrinkAfterPops || this.queued < 2) return;
    // Drop the frame due now; the next one plays in its place.
    const slot = this.queue[0] as number;
    const cursor = this.playoutTimestamp as number;
    if ((this.slotTimestamp[slot] as number) < cursor + this.frameTicks) {
      this.rememberPlayed(this.slotSequence[slot] as number);
      this.releaseAt(0);
    }
    this.playoutTimestamp = cursor + this.frameTicks;
    this.stats.dropped++;
    this.aboveTargetPops = 0;
  }

  private targetDelayMs(): number {
    const frameMs = this.ticksToMs(this.frameTicks);
    let wanted = Math.ceil((frameMs + 3 * this.ticksToMs(this.jitter)) / frameMs) * frameMs;
    if (this.jitterSamples < TRUSTED_JITTER_SAMPLES) wanted = Math.max(wanted, this.initialDelayMs);
    return this.clampDelay(wanted);
  }

  private clampDelay(ms: number): number {
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, ms));
  }

  /** Audio held ahead of the cursor (or of the oldest packet before playout starts). */
  private bufferedTicks(): number {
    if (this.queued === 0) return 0;
    let end = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.queued; i++) {
      const slot = this.queue[i] as number;
      const slotEnd = (this.slotTimestamp[slot] as number) + (this.slotDuration[slot] as number);
      if (slotEnd > end) end = slotEnd;
    }
    const start =
      this.playing && this.playoutTimestamp !== undefined
        ? this.playoutTimestamp
        : (this.slotTimestamp[this.queue[0] as number] as number);
    return Math.max(0, end - start);
  }

  /** RFC 3550 §6.4.1 / A.8: J += (|D| − J) / 16, with D the change in relative transit time. */
  private updateJitter(timestamp: number, arrivalMs: number): void {
    const transit = (arrivalMs * this.clockRate) / 1000 - timestamp;
    if (this.lastTransit !== undefined) {
      const d = Math.abs(transit - this.lastTransit);
      this.jitter += (d - this.jitter) / 16;
      this.jitterSamples++;
    }
    this.lastTransit = transit;
  }

  private releaseHeld(): void {
    if (this.heldSlot < 0) return;
    this.freeSlots[this.freeCount++] = this.heldSlot;
    this.heldSlot = -1;
  }

  private resync(counted = true): void {
    this.releaseHeld();
    while (this.queued > 0) this.releaseAt(0);
    this.sequences.reset();
    this.timestamps.reset();
    this.playing = false;
    this.playoutTimestamp = undefined;
    this.underrunFrames = 0;
    this.gapHolds = 0;
    this.aboveTargetPops = 0;
    this.lastTransit = undefined;
    this.jitterSamples = 0;
    this.recentPlayed.fill(Number.NaN);
    if (counted) this.stats.resyncs++;
  }

  private enqueue(slot: number, timestamp: number): void {
    // Insertion from the back: packets almost always arrive in order, so this is O(1) typically.
    let i = this.queued;
    while (i > 0 && (this.slotTimestamp[this.queue[i - 1] as number] as number) > timestamp) {
      this.queue[i] = this.queue[i - 1] as number;
      i--;
    }
    this.queue[i] = slot;
    this.queued++;
  }

  private releaseAt(index: number): void {
    const slot = this.queue[index] as number;
    this.queue.copyWithin(index, index + 1, this.queued);
    this.queued--;
    this.freeSlots[this.freeCount++] = slot;
  }

  private findQueued(timestamp: number, sequence: number): boolean {
    for (let i = 0; i < this.queued; i++) {
      const slot = this.queue[i] as number;
      if (this.slotSequence[slot] === sequence || this.slotTimestamp[slot] === timestamp) return true;
    }
    return false;
  }

  private rememberPlayed(sequence: number): void {
    this.recentPlayed[this.recentIndex] = sequence;
    this.recentIndex = (this.recentIndex + 1) % RECENT_PLAYED;
  }

  private wasPlayed(sequence: number): boolean {
    for (let i = 0; i < RECENT_PLAYED; i++) if (this.recentPlayed[i] === sequence) return true;
    return false;
  }

  private ticksFor(ms: number): number {
    return (ms * this.clockRate) / 1000;
  }

  private ticksToMs(ticks: number): number {
    return (ticks * 1000) / this.clockRate;
  }
}
