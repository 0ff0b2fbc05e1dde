export interface JitterBufferOptions {
  /** RTP clock rate of the payload type (8000 for G.711/G.722, 48000 for Opus). */
  clockRate: number;
  /** RTP ticks in one 20 ms frame: the playout step of one pop. */
  ticksPerFrame: number;
  /** Lower bound of the target delay (default 40 ms). */
  minDelayMs?: number;
  /** Upper bound of the target delay (default 300 ms). */
  maxDelayMs?: number;
  /** Target before any jitter was measured (default 60 ms). */
  initialDelayMs?: number;
  /** Packets held at most (default 32); a full buffer drops its oldest packet. */
  capacity?: number;
  /** Largest payload stored (default 1500 bytes); larger ones are dropped and counted. */
  maxPayloadSize?: number;
  /** A timestamp this far from the playout point means the sender restarted its clock (default 1 s). */
  resyncThresholdMs?: number;
  /** Empty ticks concealed before the buffer goes quiet and waits to refill (default 3, 60 ms). */
  maxUnderrunConcealFrames?: number;
  /** Consecutive pops above target + one frame before one frame is dropped to cut delay (default 10). */
  shrinkAfterPops?: number;
}

/** What the buffer needs of a received RTP packet. */
export interface JitterPacket {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  /** Copied into the buffer's own storage; the caller may reuse its receive buffer at once. */
  payload: Uint8Array;
  /** RTP ticks this packet covers; defaults to one frame (set it for a ptime other than 20 ms). */
  durationTicks?: number;
}

/**
 * - `packet`: play this payload.
 * - `lost`: a frame is missing (a gap, or a packet that has not come yet): conceal it.
 * - `empty`: nothing to play (not started, or quiet after a talkspurt ended): play silence.
 */
export type JitterFrameKind = 'packet' | 'lost' | 'empty';

/** One pop's result. Reused by the buffer: read it before the next pop. */
export interface JitterFrame {
  kind: JitterFrameKind;
  /** Valid for `packet` only: a view into the buffer's storage, until the next pop or insert. */
  payload: Uint8Array;
  /** Extended RTP timestamp of the frame played or concealed. */
  timestamp: number;
  /** Extended sequence number (`packet` only; -1 otherwise). */
  sequenceNumber: number;
  durationTicks: number;
}

export interface JitterBufferStats {
  /** Packets offered to insert. */
  received: number;
  /** Frames found missing at playout with later packets already buffered. */
  lost: number;
  /** Packets that came after their playout time had passed (dropped). */
  late: number;
  /** Packets received twice (dropped). */
  duplicates: number;
  /** Frames returned as `lost` (gaps plus underruns): what the decoder concealed. */
  concealed: number;
  /** Frames dropped to bring the delay down or because the buffer overflowed. */
  dropped: number;
  /** Restarts on SSRC change or timestamp jump. */
  resyncs: number;
  /** Audio buffered ahead of the playout point (ms). */
  currentDelayMs: number;
  /** The delay the buffer steers toward (ms). */
  targetDelayMs: number;
  /** RFC 3550 interarrival jitter estimate (ms). */
  jitterMs: number;
}
