import { EventEmitter } from 'node:events';
import {
  AudioSource,
  DisconnectReason,
  LocalAudioTrack,
  type RemoteParticipant,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { digitToEvent } from '../media/dtmf/telephoneEvent.js';
import type { FfiAudio, FfiAudioStream } from './ffiAudio.js';
import { PcmFifo } from './pcmFifo.js';
import type { RoomBridgeEvents, RoomBridgeOptions } from './roomBridgeTypes.js';

/** LiveKit's audio rate; the SIP side resamples to and from it. */
export const BRIDGE_SAMPLE_RATE = 48_000;
/** Direct capture (queue 0) takes exactly 10 ms frames. */
const CAPTURE_FRAME_SAMPLES = BRIDGE_SAMPLE_RATE / 100;
/** Per-participant buffer: bursts up to 200 ms are smoothed, anything older is dropped. */
const FIFO_SAMPLES = BRIDGE_SAMPLE_RATE / 5;
/**
 * A participant's audio is heard once 40 ms of it are buffered (and again after it ran dry):
 * LiveKit delivers 10 ms frames in bursts, and the SIP clock takes 20 ms at a time.
 */
const FIFO_PRIME_SAMPLES = BRIDGE_SAMPLE_RATE / 25;
/**
 * Capture buffers kept for reuse. A capture's buffer is busy until the FFI says it is done,
 * normally within the same tick; a few spare cover a slow callback without allocating.
 */
const SPARE_CAPTURE_BUFFERS = 8;
/**
 * How long saying `sip.callStatus: hangup` may hold up leaving. A room that is going away never
 * answers it, and leaving matters more than the attribute.
 */
const HANGUP_STATUS_TIMEOUT_MS = 250;

/**
 * One SIP leg's presence in a LiveKit room: a participant that publishes the caller's audio and
 * hands the SIP side a mix of everyone else (mix-minus by construction: a participant never
 * subscribes to itself). DTMF goes both ways as LiveKit SIP DTMF.
 *
 * The audio source uses direct capture (queue size 0): a queued source costs CPU even when idle,
 * and the SIP side already paces frames at 20 ms.
 */
export class RoomBridge extends EventEmitter<RoomBridgeEvents> {
  private readonly room = new Room();
  private readonly source = new AudioSource(BRIDGE_SAMPLE_RATE, 1, 0);
  /** One FIFO per subscribed audio track, by track sid: a participant may publish several (mic, screen share). */
  private readonly remotes = new Map<string, { identity: string; fifo: PcmFifo; stream: FfiAudioStream }>();
  /** 10 ms capture buffers the FFI is done with. */
  private readonly spare: Int16Array[] = [];
  private readonly captureDone = (buffer: Int16Array, error: string | undefined): void => {
    if (error) this.options.logger.debug({ error }, 'audio frame not captured');
    if (this.spare.length < SPARE_CAPTURE_BUFFERS) this.spare.push(buffer);
  };
  private closing = false;

  constructor(private readonly options: RoomBridgeOptions & { logger: Logger; audio: FfiAudio }) {
    super();
    this.room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) =>
      this.onTrack(track, participant),
    );
    this.room.on(RoomEvent.TrackUnsubscribed, (track) => this.dropTrack(track.sid));
    this.room.on(RoomEvent.ParticipantConnected, (participant) =>
      this.emit('participantJoined', participant.identity),
    );
    this.room.on(RoomEvent.ParticipantDisconnected, (participant) => {
      this.dropParticipant(participant.identity);
      this.emit('participantLeft', participant.identity);
    });
    this.room.on(RoomEvent.DtmfReceived, (code, digit, participant) =>
      this.emit('dtmf', { code, digit, from: participant.identity }),
    );
    this.room.on(RoomEvent.Disconnected, (reason) => {
      if (this.closing) return;
      this.emit('closed', reason === DisconnectReason.ROOM_DELETED ? 'room_deleted' : 'disconnected');
    });
  }

  /** Joins the room and publishes the caller's track; resolves once both are done. */
  async connect(): Promise<void> {
    await this.room.connect(this.options.url, this.options.token, { autoSubscribe: true, dynacast: false });
    const track = LocalAudioTrack.createAudioTrack('sip-audio', this.source);
    const publish = new TrackPublishOptions();
    publish.source = TrackSource.SOURCE_MICROPHONE;
    await this.room.localParticipant?.publishTrack(track, publish);
    for (const participant of this.room.remoteParticipants.values()) {
      this.emit('participantJoined', participant.identity);
    }
  }

  /** Identities of the other participants in the room. */
  get participants(): string[] {
    return [...this.room.remoteParticipants.keys()];
  }

  /**
   * Sends the caller's audio: 48 kHz mono, a multiple of 10 ms. Each 10 ms frame is copied into a
   * buffer of its own that the FFI reads after this returns (`pcm` is the caller's reused view).
   */
  pushCallerAudio(pcm: Int16Array): void {
    if (this.closing) return;
    for (let offset = 0; offset + CAPTURE_FRAME_SAMPLES <= pcm.length; offset += CAPTURE_FRAME_SAMPLES) {
      const buffer = this.spare.pop() ?? new Int16Array(CAPTURE_FRAME_SAMPLES);
      buffer.set(pcm.subarray(offset, offset + CAPTURE_FRAME_SAMPLES));
      try {
        this.options.audio.capture(this.source, buffer, this.captureDone);
      } catch (error) {
        this.options.logger.debug({ err: error }, 'audio frame not captured');
      }
    }
  }

  /**
   * Fills `out` (48 kHz mono) with the mix of every other participant and returns how many
   * participants contributed; `out` is zeroed first, so silence is a valid result.
   */
  readMix(out: Int16Array): number {
    out.fill(0);
    let contributors = 0;
    for (const { fifo } of this.remotes.values()) {
      if (fifo.mixInto(out) > 0) contributors++;
    }
    return contributors;
  }

  async sendDtmf(digit: string): Promise<void> {
    await this.room.localParticipant?.publishDtmf(dtmfCode(digit), digit);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const sid of [...this.remotes.keys()]) this.dropTrack(sid);
    await this.announceHangup();
    await this.room.disconnect();
    await this.source.close();
  }

  /** The others see the call end (sip.callStatus hangup, as LiveKit SIP) before it leaves. */
  private async announceHangup(): Promise<void> {
    const local = this.room.localParticipant;
    if (!this.room.isConnected || !local) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      local
        .setAttributes({ 'sip.callStatus': 'hangup' })
        .catch((error: unknown) =>
          this.options.logger.debug({ err: error }, 'sip.callStatus hangup not set'),
        ),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, HANGUP_STATUS_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  private onTrack(track: RemoteTrack, participant: RemoteParticipant): void {
    if (track.kind !== TrackKind.KIND_AUDIO || this.closing || !track.sid) return;
    // A track subscribed again replaces its old stream rather than being heard twice.
    const sid = track.sid;
    this.dropTrack(sid);
    const fifo = new PcmFifo(FIFO_SAMPLES, FIFO_PRIME_SAMPLES);
    try {
      const stream = this.options.audio.openStream(track, {
        sampleRate: BRIDGE_SAMPLE_RATE,
        frameSizeMs: 10,
        onFrame: (samples) => fifo.write(samples),
        onEnd: () => {
          if (this.remotes.get(sid)?.fifo === fifo) this.remotes.delete(sid);
        },
      });
      this.remotes.set(sid, { identity: participant.identity, fifo, stream });
    } catch (error) {
      this.options.logger.warn({ err: error, identity: participant.identity }, 'remote audio stream failed');
    }
  }

  private dropTrack(sid: string | undefined): void {
    const remote = sid ? this.remotes.get(sid) : undefined;
    if (!remote || !sid) return;
    this.remotes.delete(sid);
    remote.stream.close();
  }

  private dropParticipant(identity: string): void {
    for (const [sid, remote] of [...this.remotes]) if (remote.identity === identity) this.dropTrack(sid);
  }
}

/** RFC 4733 event codes: 0–9, * = 10, # = 11, A–D = 12–15. */
export function dtmfCode(digit: string): number {
  const code = digit.length === 1 ? digitToEvent(digit) : undefined;
  if (code === undefined) throw new Error(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return code;
}
