import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parse } from 'sdp-transform';
import type { Codec, CodecName } from '../../src/media/codecs/codecTypes.js';
import { createCodec } from '../../src/media/codecs/createCodec.js';
import { looksLikeRtcp, parseRtpPacket } from '../../src/media/rtp/rtpPacket.js';
import { RtpSender } from '../../src/media/rtp/rtpSender.js';
import { ToneGenerator } from '../../test/support/tone.js';
import { AudioProbe, wallNow } from './audioProbe.js';

/** SDP for each codec the caller can offer (Opus mono, with in-band FEC as phones offer it). */
const OFFERS: Record<CodecName, { payloadType: number; lines: string[] }> = {
  PCMU: { payloadType: 0, lines: ['a=rtpmap:0 PCMU/8000'] },
  PCMA: { payloadType: 8, lines: ['a=rtpmap:8 PCMA/8000'] },
  G722: { payloadType: 9, lines: ['a=rtpmap:9 G722/8000'] },
  opus: { payloadType: 111, lines: ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1'] },
};

/** What the caller sends: a steady tone (load steps) or silence broken by bursts (latency step). */
export type LegSignal = 'tone' | 'silence';

export interface RtpLegWindow {
  /** Packets expected from the sequence numbers seen, received, and missing. */
  expected: number;
  received: number;
  lost: number;
}

/**
 * The caller's media for one benchmark call: one codec (PCMU by default) over one UDP socket. It sends a
 * 1 kHz tone (or silence and bursts) when `tick` is called by the shared 20 ms clock, and judges
 * what comes back (the room agent's 440 Hz tone) with an AudioProbe plus sequence-number loss.
 */
export class RtpLeg {
  readonly probe: AudioProbe;
  private readonly codec: Codec;
  private readonly sender: RtpSender;
  private readonly tone: ToneGenerator;
  private readonly silence: Int16Array;
  private remote: { address: string; port: number } | undefined;
  private signal: LegSignal = 'tone';
  private burstFrames = 0;
  private pendingBurstAt: ((wallMs: number) => void) | undefined;
  private firstSeq = -1;
  private highestSeq = -1;
  private received = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly codecName: CodecName,
  ) {
    this.codec = createCodec(codecName, { payloadType: OFFERS[codecName].payloadType });
    const rate = this.codec.sampleRate;
    this.tone = new ToneGenerator({ frequencyHz: 1000, amplitude: 0.3, sampleRate: rate });
    this.silence = new Int16Array(this.codec.samplesPerFrame);
    this.sender = new RtpSender({
      ssrc: Math.floor(Math.random() * 0xffffffff),
      payloadType: this.codec.payloadType,
      clockRate: this.codec.clockRate,
      ticksPerFrame: this.codec.ticksPerFrame,
      initialSequenceNumber: Math.floor(Math.random() * 30_000),
      initialTimestamp: Math.floor(Math.random() * 1e9),
    });
    this.probe = new AudioProbe(rate, 440, -13.5);
    socket.on('message', (data) => this.onMessage(data));
  }

  static async open(codec: CodecName = 'PCMU'): Promise<RtpLeg> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RtpLeg(socket, codec);
  }

  offer(): string {
    const port = this.socket.address().port;
    return `${[
      'v=0',
      `o=bench ${port} 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${port} RTP/AVP ${OFFERS[this.codecName].payloadType} 101`,
      ...OFFERS[this.codecName].lines,
      `a=rtpmap:101 telephone-event/${this.codec.clockRate}`,
      'a=fmtp:101 0-16',
      'a=ptime:20',
      'a=sendrecv',
    ].join('\r\n')}\r\n`;
  }

  useAnswer(sdp: string): void {
    const parsed = parse(sdp);
    const media = parsed.media[0];
    const address = media?.connection?.ip ?? parsed.connection?.ip;
    if (!media || !address) throw new Error('no audio in the answer');
    this.remote = { address, port: media.port };
  }

  setSignal(signal: LegSignal): void {
    this.signal = signal;
  }

  /** Sends a 1 kHz burst from the next frame; resolves with its first sample's wall-clock time. */
  burst(durationMs: number): Promise<number> {
    this.burstFrames = Math.ceil(durationMs / 20);
    return new Promise((resolve) => {
      this.pendingBurstAt = resolve;
    });
  }

  /** One 20 ms frame out; called by the shared frame clock. */
  tick(): void {
    if (!this.remote) return;
    let pcm = this.silence;
    if (this.signal === 'tone' || this.burstFrames > 0) pcm = this.tone.next(this.codec.samplesPerFrame);
    const packet = this.sender.nextMediaPacket(this.codec.encode(pcm));
    this.socket.send(Uint8Array.from(packet), this.remote.port, this.remote.address);
    if (this.burstFrames > 0) {
      this.burstFrames--;
      // The frame's samples span the 20 ms up to its sending (the receiving probe counts the same way).
      this.pendingBurstAt?.(wallNow() - 20);
      this.pendingBurstAt = undefined;
    }
  }

  /** Starts a measuring window for loss and the probe. */
  reset(): void {
    this.probe.reset();
    this.firstSeq = -1;
    this.received = 0;
  }

  read(): RtpLegWindow {
    const expected = this.firstSeq < 0 ? 0 : this.highestSeq - this.firstSeq + 1;
    return { expected, received: this.received, lost: Math.max(0, expected - this.received) };
  }

  close(): void {
    this.socket.close();
    this.codec.close();
  }

  private onMessage(data: Buffer): void {
    const at = wallNow();
    if (looksLikeRtcp(data)) return;
    const packet = parseRtpPacket(data);
    if (packet.payloadType !== this.codec.payloadType) return;
    // Sequence numbers unwrapped against the highest seen, so a window spans 16-bit wraps.
    let seq = packet.sequenceNumber;
    if (this.highestSeq >= 0) {
      const base = this.highestSeq - (this.highestSeq & 0xffff);
      seq += base;
      if (seq < this.highestSeq - 0x8000) seq += 0x10000;
      else if (seq > this.highestSeq + 0x8000) seq -= 0x10000;
    }
    if (this.firstSeq < 0) this.firstSeq = seq;
    if (seq > this.highestSeq) this.highestSeq = seq;
    this.received++;
    this.probe.push(this.codec.decode(packet.payload), at);
  }
}
