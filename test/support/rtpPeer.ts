import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parse } from 'sdp-transform';
import type { Codec, CodecName } from '../../src/media/codecs/codecTypes.js';
import { createCodec } from '../../src/media/codecs/createCodec.js';
import { DtmfReceiver } from '../../src/media/dtmf/dtmfReceiver.js';
import { DtmfSender } from '../../src/media/dtmf/dtmfSender.js';
import { parseTelephoneEvent } from '../../src/media/dtmf/telephoneEvent.js';
import { parseRtcpCompound } from '../../src/media/rtcp/rtcpPacket.js';
import type { RtcpPacket } from '../../src/media/rtcp/rtcpTypes.js';
import { looksLikeRtcp, parseRtpPacket } from '../../src/media/rtp/rtpPacket.js';
import { RtpSender } from '../../src/media/rtp/rtpSender.js';
import { rmsDbfs, ToneGenerator } from './tone.js';

const RTPMAP: Record<CodecName, { payloadType: number; rtpmap: string; clockRate: number }> = {
  PCMU: { payloadType: 0, rtpmap: 'PCMU/8000', clockRate: 8000 },
  PCMA: { payloadType: 8, rtpmap: 'PCMA/8000', clockRate: 8000 },
  G722: { payloadType: 9, rtpmap: 'G722/8000', clockRate: 8000 },
  opus: { payloadType: 111, rtpmap: 'opus/48000/2', clockRate: 48000 },
};
const EVENT_PAYLOAD_TYPE = 101;
/** Frames sent at once to catch up after the timer ran late; a longer stall skips the rest. */
const MAX_CATCH_UP_FRAMES = 10;

export interface ReceivedEventPacket {
  event: number;
  end: boolean;
  marker: boolean;
  timestamp: number;
  sequenceNumber: number;
}

/**
 * A SIP-side RTP endpoint of our own for tests: one UDP socket on loopback, an SDP offer for one
 * codec (plus telephone-event), a tone or silence sent with 20 ms pacing on a drift-free clock,
 * RFC 4733 digits sent and received, and everything received decoded with the project's codecs
 * so tests can check the audio itself.
 */
export class RtpPeer {
  readonly codec: Codec;
  private readonly socket: Socket;
  private readonly sender: RtpSender;
  private readonly dtmfOut: DtmfSender;
  private readonly dtmfIn: DtmfReceiver;
  private readonly receiveCodec: Codec;
  private remote: { address: string; port: number } | null = null;
  private tone: ToneGenerator | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly frameListeners: ((frame: Int16Array) => boolean)[] = [];
  private readonly packetListeners: (() => boolean)[] = [];
  private readonly rtcpWaiters: ((packets: RtcpPacket[]) => void)[] = [];
  private readonly digitWaiters: ((digit: string) => void)[] = [];
  /** Digits decoded from RFC 4733 packets, in order. */
  readonly digits: string[] = [];
  readonly eventPackets: ReceivedEventPacket[] = [];
  /** SSRC of the audio we send (RTCP report blocks about us carry it). */
  get ssrc(): number {
    return this.sender.ssrc;
  }
  /**
   * How late frames went out against their 20 ms schedule (this peer shares the test process's
   * event loop): the jitter the far end's buffer had to absorb from us.
   */
  readonly sendTiming = { worstLateMs: 0, framesOver20MsLate: 0 };
  /**
   * Network loss toward the far end: every `loseEvery`-th audio packet is made (its sequence
   * number used) but not sent; 0 sends them all. Telephone-events are never lost.
   */
  loseEvery = 0;
  /** Audio packets made, sent or lost. */
  audioPacketsMade = 0;
  audioPacketsLost = 0;
  audioPacketsReceived = 0;
  lastAudioPayloadSize = 0;
  lastAudioAt = 0;

  private constructor(
    readonly codecName: CodecName,
    socket: Socket,
    /** Sends to wherever the first packet came from when no remote SDP was given (symmetric RTP). */
    private readonly latch: boolean,
  ) {
    this.socket = socket;
    this.codec = createCodec(codecName, { payloadType: RTPMAP[codecName].payloadType });
    this.receiveCodec = createCodec(codecName, { payloadType: RTPMAP[codecName].payloadType });
    this.sender = new RtpSender({
      ssrc: 0x5eed0000 + Math.floor(Math.random() * 0xffff),
      payloadType: this.codec.payloadType,
      clockRate: this.codec.clockRate,
      ticksPerFrame: this.codec.ticksPerFrame,
      initialSequenceNumber: 1000,
      initialTimestamp: 160_000,
    });
    const clockRate = RTPMAP[codecName].clockRate;
    this.dtmfOut = new DtmfSender({ clockRate });
    this.dtmfIn = new DtmfReceiver({ clockRate });
    socket.on('message', (data, from) => {
      if (this.latch && !this.remote) this.remote = { address: from.address, port: from.port };
      this.onMessage(data);
    });
  }

  static async open(codecName: CodecName, options: { latch?: boolean } = {}): Promise<RtpPeer> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RtpPeer(codecName, socket, options.latch ?? false);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Our SDP offer (or a re-offer with another direction). */
  offer(
    direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' = 'sendrecv',
    version = 1,
    options: { rtcpMux?: boolean; ptimeMs?: number } = {},
  ): string {
    const { payloadType, rtpmap, clockRate } = RTPMAP[this.codecName];
    const lines = [
      'v=0',
      `o=rtppeer 4242 ${version} IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${payloadType} ${EVENT_PAYLOAD_TYPE}`,
      `a=rtpmap:${payloadType} ${rtpmap}`,
      ...(this.codecName === 'opus' ? [`a=fmtp:${payloadType} useinbandfec=1`] : []),
      `a=rtpmap:${EVENT_PAYLOAD_TYPE} telephone-event/${clockRate}`,
      `a=fmtp:${EVENT_PAYLOAD_TYPE} 0-16`,
      `a=ptime:${options.ptimeMs ?? 20}`,
      ...(options.rtcpMux ? ['a=rtcp-mux'] : []),
      `a=${direction}`,
    ];
    return `${lines.join('\r\n')}\r\n`;
  }

  /** Takes the far end's SDP (its answer): where to send. */
  useRemoteSdp(sdp: string): void {
    const parsed = parse(sdp);
    const media = parsed.media[0];
    const address = media?.connection?.ip ?? parsed.connection?.ip;
    if (!media || !address) throw new Error('no audio in the remote SDP');
    this.remote = { address, port: media.port };
  }

  /** Sends a tone (or silence with frequency null) every 20 ms until stop(). */
  start(tone: { frequencyHz: number; amplitude: number } | null): void {
    this.tone = tone ? new ToneGenerator({ ...tone, sampleRate: this.codec.sampleRate }) : null;
    if (this.timer) return;
    const began = performance.now();
    let ticks = 0;
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - began) / 20);
      if (due - ticks > MAX_CATCH_UP_FRAMES) {
        // Stalled (a busy test process): the frames of the stall are lost, as a phone's would be,
        // rather than sent in one burst that no real peer sends.
        this.sender.skipFrames(due - ticks - MAX_CATCH_UP_FRAMES);
        ticks = due - MAX_CATCH_UP_FRAMES;
      }
      while (this.timer && ticks < due) {
        ticks++;
        const lateMs = performance.now() - (began + ticks * 20);
        if (lateMs > this.sendTiming.worstLateMs) this.sendTiming.worstLateMs = lateMs;
        if (lateMs > 20) this.sendTiming.framesOver20MsLate++;
        this.tick();
      }
    }, 5);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Queues RFC 4733 digits, sent in place of audio while the clock runs (start() first). */
  sendDigits(digits: string, durationMs = 100): void {
    for (const digit of digits) this.dtmfOut.enqueue(digit, durationMs);
  }

  /** The next digit decoded from RFC 4733 packets. */
  nextDigit(): Promise<string> {
    return new Promise((resolve) => this.digitWaiters.push(resolve));
  }

  /**
   * Resolves with `durationMs` of decoded audio (at the codec's rate) that starts once a frame
   * louder than `audibleDbfs` arrives, after skipping `settleMs` of it.
   */
  recordAudible(options: {
    durationMs: number;
    settleMs: number;
    audibleDbfs?: number;
  }): Promise<Int16Array> {
    const rate = this.codec.sampleRate;
    const wanted = (options.durationMs * rate) / 1000;
    const settle = (options.settleMs * rate) / 1000;
    const threshold = options.audibleDbfs ?? -45;
    const out = new Int16Array(wanted);
    let heard = 0;
    let filled = 0;
    return new Promise((resolve) => {
      const onAudio = (frame: Int16Array): boolean => {
        if (heard === 0 && rmsDbfs(frame) < threshold) return false;
        for (let i = 0; i < frame.length && filled < wanted; i++) {
          if (heard++ < settle) continue;
          out[filled++] = frame[i] ?? 0;
        }
        if (filled < wanted) return false;
        resolve(out);
        return true;
      };
      this.frameListeners.push(onAudio);
    });
  }

  /** Calls `listener` with a copy of every decoded audio frame from now on, until the returned function is called. */
  onAudio(listener: (frame: Int16Array) => void): () => void {
    let listening = true;
    this.frameListeners.push((frame) => {
      if (listening) listener(Int16Array.from(frame));
      return !listening;
    });
    return () => {
      listening = false;
    };
  }

  /** Resolves once `count` more audio packets have arrived (decodable or not, silence included). */
  untilAudioPackets(count: number): Promise<void> {
    const target = this.audioPacketsReceived + count;
    return this.until(() => this.audioPacketsReceived >= target);
  }

  /** Resolves once `count` telephone-event packets match `predicate`. */
  untilEventPackets(predicate: (packet: ReceivedEventPacket) => boolean, count: number): Promise<void> {
    return this.until(() => this.eventPackets.filter(predicate).length >= count);
  }

  /** Resolves with the next RTCP compound packet that arrives (offer with rtcpMux to get them). */
  nextRtcp(): Promise<RtcpPacket[]> {
    return new Promise((resolve) => this.rtcpWaiters.push(resolve));
  }

  /** Resolves once no audio packet has arrived for `quietMs` (events are not audio). */
  untilQuiet(quietMs: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        const silentFor = performance.now() - this.lastAudioAt;
        if (silentFor >= quietMs) resolve();
        else setTimeout(check, quietMs - silentFor + 1);
      };
      check();
    });
  }

  close(): void {
    this.stop();
    this.socket.close();
    this.codec.close();
    this.receiveCodec.close();
  }

  /** Re-checked on every packet received: waits on what arrives, not on time. */
  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (!done()) return false;
        resolve();
        return true;
      };
      this.packetListeners.push(check);
    });
  }

  private tick(): void {
    if (!this.remote) return;
    let packet: Uint8Array;
    if (this.dtmfOut.busy) {
      const event = this.dtmfOut.next(this.sender.nextTimestamp);
      if (!event) return;
      packet = this.sender.writePacket(EVENT_PAYLOAD_TYPE, event.payload, event.timestamp, event.marker);
      this.sender.skipFrames(1);
    } else {
      const pcm = this.tone
        ? this.tone.next(this.codec.samplesPerFrame)
        : new Int16Array(this.codec.samplesPerFrame);
      packet = this.sender.nextMediaPacket(this.codec.encode(pcm));
      this.audioPacketsMade++;
      if (this.loseEvery > 0 && this.audioPacketsMade % this.loseEvery === 0) {
        this.audioPacketsLost++;
        return;
      }
    }
    // A copy: dgram reads the bytes after this turn, and the sender reuses its buffer.
    this.socket.send(Uint8Array.from(packet), this.remote.port, this.remote.address);
  }

  private onMessage(data: Buffer): void {
    if (looksLikeRtcp(data)) {
      const packets = parseRtcpCompound(data);
      for (const waiter of this.rtcpWaiters.splice(0)) waiter(packets);
      return;
    }
    this.onRtp(data);
    for (let i = this.packetListeners.length - 1; i >= 0; i--) {
      if (this.packetListeners[i]?.()) this.packetListeners.splice(i, 1);
    }
  }

  private onRtp(data: Buffer): void {
    const packet = parseRtpPacket(data);
    if (packet.payloadType === EVENT_PAYLOAD_TYPE) {
      const event = parseTelephoneEvent(packet.payload);
      this.eventPackets.push({
        event: event.event,
        end: event.end,
        marker: packet.marker,
        timestamp: packet.timestamp,
        sequenceNumber: packet.sequenceNumber,
      });
      for (const digit of this.dtmfIn.receive(packet.timestamp, packet.payload, performance.now())) {
        this.digits.push(digit.digit);
        this.digitWaiters.shift()?.(digit.digit);
      }
      return;
    }
    if (packet.payloadType !== this.receiveCodec.payloadType) return;
    this.audioPacketsReceived++;
    this.lastAudioPayloadSize = packet.payload.length;
    this.lastAudioAt = performance.now();
    const frame = this.receiveCodec.decode(packet.payload);
    for (let i = this.frameListeners.length - 1; i >= 0; i--) {
      if (this.frameListeners[i]?.(frame)) this.frameListeners.splice(i, 1);
    }
  }
}
