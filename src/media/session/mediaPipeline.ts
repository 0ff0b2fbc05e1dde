import type { Codec } from '../codecs/codecTypes.js';
import { createCodec } from '../codecs/createCodec.js';
import { Resampler } from '../codecs/resampler.js';
import { DtmfReceiver } from '../dtmf/dtmfReceiver.js';
import { DtmfSender } from '../dtmf/dtmfSender.js';
import type { ReceivedDtmf } from '../dtmf/dtmfTypes.js';
import { AdaptiveJitterBuffer } from '../jitter/adaptiveJitterBuffer.js';
import type { JitterPacket } from '../jitter/jitterBufferTypes.js';
import { JitterPlayout } from '../jitter/jitterPlayout.js';
import { RtpReceiverStatistics } from '../rtcp/receiverStatistics.js';
import type { RtpPacket } from '../rtp/rtpPacketTypes.js';
import { RtpSender } from '../rtp/rtpSender.js';
import type { NegotiatedAudio } from '../sdp/sdpTypes.js';
import { BRIDGE_SAMPLE_RATE, type MediaPipelineOptions } from './mediaPipelineTypes.js';

const NO_DIGITS: readonly ReceivedDtmf[] = Object.freeze([]);

/**
 * The codec-bound state of one session's audio for one negotiated codec: decoder, jitter buffer,
 * playout and upsampling on the way to the room; downsampling, encoder, packetisation (at the
 * peer's ptime) and RFC 4733 on the way to the peer; receive statistics for RTCP.
 *
 * A re-INVITE that changes the codec or a payload type gets a new pipeline; the RTP stream keeps
 * its SSRC and sequence (the session passes them on).
 */
export class MediaPipeline {
  readonly codec: Codec;
  readonly statistics: RtpReceiverStatistics;
  readonly sender: RtpSender;
  readonly jitter: AdaptiveJitterBuffer;
  private readonly playout: JitterPlayout;
  private readonly upsampler: Resampler;
  private readonly downsampler: Resampler;
  private readonly dtmfReceiver: DtmfReceiver | null;
  private readonly dtmfSender: DtmfSender | null;
  private readonly audioPayloadType: number;
  private readonly eventPayloadType: number;
  /** 20 ms frames per packet we send: the peer's ptime in whole frames (30 ms → 20 ms). */
  private readonly framesPerPacket: number;
  private readonly pending: Int16Array;
  private pendingFrames = 0;
  /** The resamplers skip silence (a third of a call's media CPU); these say when they did. */
  private downsamplerIdle = false;
  private upsamplerIdle = false;
  /** Reused per packet: the jitter buffer copies the payload, not this object. */
  private readonly scratch: JitterPacket = {
    ssrc: 0,
    sequenceNumber: 0,
    timestamp: 0,
    payload: new Uint8Array(0),
  };

  constructor(
    readonly media: NegotiatedAudio,
    options: MediaPipelineOptions,
  ) {
    const { codec: negotiated, telephoneEvent } = media;
    // We answer and offer mono Opus; libopus folds a stereo packet into mono when decoding. A
    // peer's maxaveragebitrate is a ceiling we keep to (RFC 7587 §6.1): WhatsApp asks 20 kbit/s.
    const ceiling = negotiated.opus?.maxAverageBitrate;
    this.codec = createCodec(negotiated.name, {
      payloadType: negotiated.payloadType,
      channels: 1,
      ...(ceiling && ceiling >= 6000 && ceiling < 32_000 ? { bitrate: ceiling } : {}),
    });
    this.audioPayloadType = negotiated.payloadType;
    this.eventPayloadType = telephoneEvent?.payloadType ?? -1;
    this.statistics = new RtpReceiverStatistics({ clockRate: this.codec.clockRate });
    this.jitter = new AdaptiveJitterBuffer({
      clockRate: this.codec.clockRate,
      ticksPerFrame: this.codec.ticksPerFrame,
    });
    this.playout = new JitterPlayout(this.jitter, this.codec);
    this.upsampler = new Resampler({ inputRate: this.codec.sampleRate, outputRate: BRIDGE_SAMPLE_RATE });
    this.downsampler = new Resampler({ inputRate: BRIDGE_SAMPLE_RATE, outputRate: this.codec.sampleRate });
    this.sender = new RtpSender({
      ssrc: options.ssrc,
      payloadType: this.audioPayloadType,
      clockRate: this.codec.clockRate,
      ticksPerFrame: this.codec.ticksPerFrame,
      initialSequenceNumber: options.initialSequenceNumber,
      initialTimestamp: options.initialTimestamp,
    });
    this.dtmfReceiver = telephoneEvent ? new DtmfReceiver({ clockRate: telephoneEvent.clockRate }) : null;
    this.dtmfSender = telephoneEvent
      ? new DtmfSender({ clockRate: telephoneEvent.clockRate, packetIntervalMs: 20, endRepeats: 3 })
      : null;
    this.framesPerPacket = Math.max(1, Math.floor(media.ptimeMs / 20));
    this.pending = new Int16Array(this.codec.samplesPerFrame * this.framesPerPacket);
  }

  get canSendDtmf(): boolean {
    return this.dtmfSender !== null;
  }

  /**
   * Takes one received packet: audio into the jitter buffer, telephone-event into the DTMF
   * receiver (whose completed digits are returned), anything else (comfort noise, a payload type
   * we did not agree) is ignored. Returns false when the packet was not ours to play.
   */
  receive(packet: RtpPacket, arrivalMs: number): readonly ReceivedDtmf[] | false {
    if (packet.payloadType === this.audioPayloadType) {
      this.statistics.update(packet.ssrc, packet.sequenceNumber, packet.timestamp, arrivalMs);
      const scratch = this.scratch;
      scratch.ssrc = packet.ssrc;
      scratch.sequenceNumber = packet.sequenceNumber;
      scratch.timestamp = packet.timestamp;
      scratch.payload = packet.payload;
      scratch.durationTicks = this.durationTicks(packet.payload);
      this.jitter.insert(scratch, arrivalMs);
      return NO_DIGITS;
    }
    if (packet.payloadType === this.eventPayloadType && this.dtmfReceiver) {
      // Events repeat one timestamp: count their sequence numbers, not their jitter.
      this.statistics.update(packet.ssrc, packet.sequenceNumber, packet.timestamp, arrivalMs, false);
      return this.dtmfReceiver.receive(packet.timestamp, packet.payload, arrivalMs);
    }
    return false;
  }

  /** Digits whose end packets never came (call once per tick). */
  pollDtmf(nowMs: number): readonly ReceivedDtmf[] {
    return this.dtmfReceiver ? this.dtmfReceiver.poll(nowMs) : NO_DIGITS;
  }

  /** The caller's next 20 ms at 48 kHz: decoded, concealed or silent. A reused view. */
  playout48k(): Int16Array {
    if (this.upsamplerIdle) this.upsampler.reset();
    this.upsamplerIdle = false;
    return this.upsampler.process(this.playout.next());
  }

  /** Plays out one frame nobody listens to (no room yet): keeps the jitter buffer moving, unresampled. */
  drainPlayout(): void {
    this.playout.next();
    this.upsamplerIdle = true;
  }

  /** Queues digits for RFC 4733; throws RangeError for a non-digit. */
  queueDtmf(digit: string, durationMs: number): void {
    if (!this.dtmfSender) throw new Error('telephone-event was not negotiated');
    this.dtmfSender.enqueue(digit, durationMs);
  }

  /**
   * This tick's outgoing packet from 20 ms of the room's mix at 48 kHz (null: nobody talks, send
   * silence without resampling it): an RFC 4733 packet while a digit is being sent, else audio once
   * a packet's worth of frames is gathered; null when this tick completes no packet. The result is
   * the sender's reused buffer.
   */
  nextPacket(mix48k: Int16Array | null): Uint8Array | null {
    const dtmf = this.dtmfSender;
    if (dtmf?.busy) {
      // Audio gathered for a longer ptime gives way to the digit; its time passes unsent.
      this.skipPending();
      const event = dtmf.next(this.sender.nextTimestamp);
      if (event) {
        const packet = this.sender.writePacket(
          this.eventPayloadType,
          event.payload,
          event.timestamp,
          event.marker,
        );
        // The media clock runs on under the event, and audio after it starts a talkspurt.
        this.sender.skipFrames(1);
        return packet;
      }
    }
    const offset = this.pendingFrames * this.codec.samplesPerFrame;
    if (mix48k) {
      // Silence skipped the filter, so its history is zeros again, as if it had run on silence.
      if (this.downsamplerIdle) this.downsampler.reset();
      this.downsamplerIdle = false;
      this.pending.set(this.downsampler.process(mix48k), offset);
    } else {
      this.downsamplerIdle = true;
      this.pending.fill(0, offset, offset + this.codec.samplesPerFrame);
    }
    this.pendingFrames++;
    if (this.pendingFrames < this.framesPerPacket) return null;
    const frames = this.pendingFrames;
    this.pendingFrames = 0;
    return this.sender.nextMediaPacket(this.codec.encode(this.pending), frames);
  }

  /** A tick with nothing sent (we hold or are held): the media clock still runs. */
  skipFrame(): void {
    this.skipPending();
    this.sender.skipFrames(1);
  }

  close(): void {
    this.codec.close();
  }

  private skipPending(): void {
    if (this.pendingFrames === 0) return;
    this.sender.skipFrames(this.pendingFrames);
    this.pendingFrames = 0;
  }

  /** RTP ticks a payload covers, so ptimes other than 20 ms play at the right pace. */
  private durationTicks(payload: Uint8Array): number {
    // G.711 carries one byte per 8 kHz sample; G.722 one byte per two 16 kHz samples (8 kHz ticks).
    if (this.codec.name !== 'opus') return payload.length > 0 ? payload.length : this.codec.ticksPerFrame;
    return this.codec.ticksPerFrame;
  }
}
