import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import type { NegotiatedAudio } from '../../../src/media/sdp/sdpTypes.js';
import {
  DEFAULT_DTMF_DURATION_MS,
  dtmfDigitsToSend,
  injectedDtmfDigit,
} from '../../../src/media/session/dtmfCommands.js';
import type { FrameClock } from '../../../src/media/session/frameClock.js';
import { MediaTimeout } from '../../../src/media/session/mediaTimeout.js';
import type { CommandedSession } from '../../../src/media/session/sessionCommandRouter.js';
import type { SessionParts } from '../../../src/media/session/sessionRegistryTypes.js';
import type {
  AnswerOfferResult,
  ApplyRemoteAnswerResult,
  ConnectRoomParams,
  ConnectRoomResult,
  HoldResult,
  PlayParams,
  PlayResult,
  SessionCloseReason,
  SessionStats,
  StartRecordingResult,
  StopRecordingResult,
} from '../../../src/media/workers/mediaChannelTypes.js';
import { MediaCommandError } from '../../../src/media/workers/mediaCommandError.js';
import type { SessionEventSink } from '../../../src/media/workers/sessionHandlerTypes.js';
import { LOOPBACK_BLOCK_URL, LOOPBACK_HANG_URL } from './loopbackStandInUrls.js';

export interface LoopbackStandInSessionOptions {
  /** The worker's shared clock, which checks the media timeout as production's does. */
  clock: FrameClock;
  events: SessionEventSink;
  /** The session ended on its own, its port already released (SessionRegistry.ended). */
  onEnded: (reason: SessionCloseReason, message: string) => void;
}

/**
 * STAND-IN for RtpMediaSession in tests of the worker layer and the gateway. Real: the port
 * lease, SDP offer/answer, the media timeout (production's MediaTimeout on production's
 * FrameClock), DTMF command validation. Fake: RTP is echoed to where it came from instead of
 * decoded, the room is not joined, digits sent come straight back as received, a playback ends
 * at once.
 */
export class LoopbackStandInSession implements CommandedSession {
  readonly id: string;
  /** What connectRoom asked for; nothing joins. */
  room: ConnectRoomParams | null = null;
  private media: NegotiatedAudio | null = null;
  private readonly mediaTimeout: MediaTimeout;
  private closing: Promise<SessionStats> | null = null;
  /** As production: no timeout runs before our answer went out. */
  private awaitingAnswer: boolean;
  private readonly counters = { packetsReceived: 0, packetsSent: 0, bytesReceived: 0, bytesSent: 0 };
  private readonly tickListener = (nowMs: number): void => this.tick(nowMs);

  constructor(
    private readonly parts: SessionParts,
    private readonly options: LoopbackStandInSessionOptions,
  ) {
    this.id = parts.id;
    this.mediaTimeout = new MediaTimeout(parts.timeouts, performance.now());
    this.awaitingAnswer = parts.awaitingAnswer;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  start(media: NegotiatedAudio | null): void {
    if (media) this.applyMedia(media);
    const { rtpSocket, rtcpSocket } = this.parts.lease;
    rtpSocket.on('message', (data, from) => this.echo(data, from));
    const onError = (error: Error): void => this.end('media_error', `RTP socket failed: ${error.message}`);
    rtpSocket.on('error', onError);
    rtcpSocket.on('error', onError);
    this.options.clock.add(this.tickListener);
  }

  answerOffer(sdp: string): AnswerOfferResult {
    const answer = this.parts.sdp.answerOffer(sdp);
    this.applyMedia(answer.media);
    return { localSdp: answer.sdp, media: answer.media };
  }

  applyRemoteAnswer(sdp: string, provisional: boolean): ApplyRemoteAnswerResult {
    const media = this.parts.sdp.applyAnswer(sdp, { provisional });
    this.applyMedia(media);
    return { media };
  }

  hold(hold: boolean): HoldResult {
    return { localSdp: this.parts.sdp.createOffer({ direction: hold ? 'sendonly' : 'sendrecv' }).sdp };
  }

  startMedia(): void {
    if (!this.awaitingAnswer) return;
    this.awaitingAnswer = false;
    this.mediaTimeout.restart(performance.now());
  }

  /** Remembers the room; nothing joins. */
  async connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult> {
    this.room = params;
    return { participantSid: null };
  }

  /** No decoded audio here to record. */
  async startRecording(): Promise<StartRecordingResult> {
    throw new MediaCommandError('bad_request', 'the loopback stand-in does not record', 'startRecording');
  }

  async stopRecording(): Promise<StopRecordingResult> {
    throw new MediaCommandError('bad_request', 'the loopback stand-in does not record', 'stopRecording');
  }

  play(params: PlayParams): Promise<PlayResult> {
    const { source } = params;
    if (source.kind === 'url' && source.url === LOOPBACK_HANG_URL) return new Promise(() => {});
    if (source.kind === 'url' && source.url === LOOPBACK_BLOCK_URL) {
      // Answer first, so the test sees the worker get stuck after a normal exchange.
      setImmediate(() => {
        for (;;) {
          // Spin until killed.
        }
      });
    }
    const playbackId = `pb_${randomBytes(8).toString('hex')}`;
    setImmediate(() => {
      if (this.closed) return;
      this.options.events.emit('playbackEnded', { sessionId: this.id, playbackId, reason: 'finished' });
    });
    return Promise.resolve({ playbackId });
  }

  /** Each digit comes back as if the peer had sent it by RTP. */
  sendDtmf(digits: string, durationMs: number | null): void {
    for (const digit of dtmfDigitsToSend(digits)) {
      this.options.events.emit('dtmf', {
        sessionId: this.id,
        digit,
        durationMs: durationMs ?? DEFAULT_DTMF_DURATION_MS,
        source: 'rfc4733',
      });
    }
  }

  injectDtmf(digit: string, durationMs: number | null): void {
    this.options.events.emit('dtmf', {
      sessionId: this.id,
      digit: injectedDtmfDigit(digit),
      durationMs: durationMs ?? DEFAULT_DTMF_DURATION_MS,
      source: 'sip_info',
    });
  }

  close(): Promise<SessionStats> {
    if (this.closing) return this.closing;
    this.options.clock.delete(this.tickListener);
    this.parts.lease.release();
    this.closing = Promise.resolve(this.stats());
    return this.closing;
  }

  private stats(): SessionStats {
    // The stand-in measures nothing: no packet counted as expected, so no call quality from it.
    return {
      ...this.counters,
      packetsExpected: 0,
      packetsLost: 0,
      jitterMs: 0,
      roundTripMs: null,
      mos: null,
    };
  }

  private applyMedia(media: NegotiatedAudio): void {
    this.media = media;
    // As production: resuming or not, the media clock restarts from now.
    this.mediaTimeout.restart(performance.now());
  }

  /** Symmetric-RTP style: whatever arrives goes back to where it came from. */
  private echo(data: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    if (this.mediaTimeout.heard(performance.now())) {
      this.options.events.emit('firstPacket', {
        sessionId: this.id,
        from: { address: from.address, port: from.port },
        at: Date.now(),
      });
    }
    this.counters.packetsReceived++;
    this.counters.bytesReceived += data.length;
    this.parts.lease.rtpSocket.send(data, from.port, from.address);
    this.counters.packetsSent++;
    this.counters.bytesSent += data.length;
  }

  private tick(nowMs: number): void {
    if (this.closed || this.awaitingAnswer) return;
    const verdict = this.mediaTimeout.check(nowMs, this.media?.direction);
    if (!verdict) return;
    const { phase, silentMs, message } = verdict;
    this.options.events.emit('mediaTimeout', { sessionId: this.id, phase, silentMs });
    this.end('media_timeout', message);
  }

  private end(reason: SessionCloseReason, message: string): void {
    if (this.closed) return;
    void this.close();
    this.options.onEnded(reason, message);
  }
}
