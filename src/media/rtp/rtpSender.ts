import { RTP_FIXED_HEADER_SIZE, serializeRtpPacket } from './rtpPacket.js';
import type { RtpSenderOptions, RtpSenderStats } from './rtpSenderTypes.js';

const DEFAULT_MAX_PAYLOAD = 1500 - 28 - RTP_FIXED_HEADER_SIZE;

/**
 * The sending half of one RTP stream: one SSRC, one sequence space shared by the media payload and
 * telephone-event (RFC 4733 §2.1 uses the same SSRC and sequence), a timestamp that advances by the
 * codec's clock per frame, and the marker bit on the first packet of a talkspurt (RFC 3551 §4.1).
 *
 * Packets are written into one reused buffer: the returned view is valid until the next call, which
 * is fine for a socket send (dgram copies the bytes before returning).
 */
export class RtpSender {
  private sequenceNumber: number;
  private timestamp: number;
  private talkspurtStart = true;
  private readonly buffer: Uint8Array;
  private readonly stats: RtpSenderStats;

  constructor(private readonly options: RtpSenderOptions) {
    this.sequenceNumber = options.initialSequenceNumber & 0xffff;
    this.timestamp = options.initialTimestamp >>> 0;
    this.buffer = new Uint8Array(RTP_FIXED_HEADER_SIZE + (options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD));
    this.stats = { packetsSent: 0, octetsSent: 0, lastTimestamp: this.timestamp };
  }

  get ssrc(): number {
    return this.options.ssrc;
  }

  get clockRate(): number {
    return this.options.clockRate;
  }

  /** RTP timestamp the next media frame will carry. */
  get nextTimestamp(): number {
    return this.timestamp;
  }

  get nextSequenceNumber(): number {
    return this.sequenceNumber;
  }

  /** A snapshot (copied so callers cannot alter the sender's counters). */
  getStats(): RtpSenderStats {
    return { ...this.stats };
  }

  /** Marks the next media packet as the start of a talkspurt, e.g. after silence or hold. */
  startTalkspurt(): void {
    this.talkspurtStart = true;
  }

  /**
   * Writes the packet for one media frame and advances the timestamp by one frame. `frames` lets a
   * caller pack several 20 ms frames into one packet when the peer asked for a longer ptime.
   */
  nextMediaPacket(payload: Uint8Array, frames = 1): Uint8Array {
    const packet = this.write(this.options.payloadType, payload, this.timestamp, this.talkspurtStart);
    this.talkspurtStart = false;
    this.timestamp = (this.timestamp + this.options.ticksPerFrame * frames) >>> 0;
    return packet;
  }

  /**
   * Advances the media clock without sending (silence or hold, RFC 3550 §5.1: the timestamp keeps
   * running while nothing is sent); the next media packet starts a talkspurt.
   */
  skipFrames(frames: number): void {
    this.timestamp = (this.timestamp + this.options.ticksPerFrame * frames) >>> 0;
    this.talkspurtStart = true;
  }

  /**
   * Writes a packet with an explicit payload type and timestamp in this stream's sequence space,
   * for telephone-event, whose packets repeat one timestamp (RFC 4733 §2.5.1.2).
   */
  writePacket(payloadType: number, payload: Uint8Array, timestamp: number, marker: boolean): Uint8Array {
    return this.write(payloadType, payload, timestamp, marker);
  }

  private write(payloadType: number, payload: Uint8Array, timestamp: number, marker: boolean): Uint8Array {
    const packet = serializeRtpPacket(
      {
        payloadType,
        marker,
        sequenceNumber: this.sequenceNumber,
        timestamp,
        ssrc: this.options.ssrc,
        payload,
      },
      this.buffer,
    );
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.stats.packetsSent++;
    this.stats.octetsSent += payload.length;
    this.stats.lastTimestamp = timestamp >>> 0;
    return packet;
  }
}
