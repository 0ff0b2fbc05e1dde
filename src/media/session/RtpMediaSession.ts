import { randomBytes } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { ReceivedDtmf } from '../dtmf/dtmfTypes.js';
import { CODEC_IMPAIRMENTS, estimateMos } from '../rtcp/eModel.js';
import { roundTripTimeMs } from '../rtcp/receiverStatistics.js';
import { parseRtcpCompound } from '../rtcp/rtcpPacket.js';
import { buildRtcpReport, nextRtcpIntervalMs } from '../rtcp/rtcpReportBuilder.js';
import type { ReportBlock } from '../rtcp/rtcpTypes.js';
import { looksLikeRtcp, parseRtpPacket } from '../rtp/rtpPacket.js';
import type { NegotiatedAudio, RtpEndpoint } from '../sdp/sdpTypes.js';
import { SrtpTransform } from '../srtp/srtpTransform.js';
import type { SrtpKeys } from '../srtp/srtpTypes.js';
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
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingResult,
} from '../workers/mediaChannelTypes.js';
import { MediaCommandError } from '../workers/mediaCommandError.js';
import { DtlsIceTransport } from './dtlsIceTransport.js';
import { DEFAULT_DTMF_DURATION_MS, dtmfDigitsToSend, injectedDtmfDigit } from './dtmfCommands.js';
import { MediaPipeline } from './mediaPipeline.js';
import { BRIDGE_FRAME_SAMPLES } from './mediaPipelineTypes.js';
import { MediaTimeout } from './mediaTimeout.js';
import { PacketRing } from './packetRing.js';
import { type PcmFileLease, PcmFiles } from './pcmFiles.js';
import { mixInto, Playback } from './playback.js';
import type { RtpMediaSessionOptions, SessionRoomBridge } from './rtpMediaSessionTypes.js';
import { SessionRecordings } from './sessionRecordings.js';

/** Digits from the room carry no duration; this is what the peer gets (RFC 4733 typical). */
const ROOM_DTMF_DURATION_MS = 100;
/** Leaving the room must not hold a hangup hostage. */
const BRIDGE_CLOSE_TIMEOUT_MS = 3_000;
/**
 * How often the main process hears the session's stats by default: often enough for a page to
 * show a live call's quality, independent of RTCP (every 5 s at best, randomised, and a peer
 * such as sipp sends none).
 */
const DEFAULT_STATS_INTERVAL_MS = 2_000;
/** Received packets before a MOS estimate means anything (one second of 20 ms audio). */
const MOS_MIN_PACKETS = 50;
/**
 * SRTP packets in a row that fail authentication before the call ends: two seconds of 20 ms
 * audio. A stray forged packet is only dropped; a peer whose every packet fails (a wrong key, an
 * unencrypted stream) is a call nobody can hear.
 */
const SRTP_FAILURES_TO_END = 100;

/**
 * One call's media inside a worker: its RTP/RTCP sockets, the negotiated codec pipeline, the
 * LiveKit participant, DTMF both ways, RTCP and the media timeout. Driven by the worker's shared
 * 20 ms clock (tick), the sockets (receive) and the handler's commands.
 *
 * Symmetric RTP: until the first packet arrives we send where the SDP says; then we latch to the
 * packet's source (a NATed peer's SDP address is often unreachable) and ignore other sources,
 * until a re-INVITE moves the stream.
 */
export class RtpMediaSession {
  readonly id: string;
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private readonly cname = `gw-${randomBytes(6).toString('hex')}`;
  private readonly random: () => number;
  private readonly ring = new PacketRing();
  private readonly mix48k = new Int16Array(BRIDGE_FRAME_SAMPLES);
  private readonly silence48k = new Int16Array(BRIDGE_FRAME_SAMPLES);
  private readonly playFrame48k = new Int16Array(BRIDGE_FRAME_SAMPLES);
  private playback: Playback | null = null;
  /** The decoded file the current playback plays, held until it ends. */
  private playbackFile: PcmFileLease | null = null;
  /** Counts play commands, so a file still being read is dropped when a newer play came meanwhile. */
  private playGeneration = 0;
  private readonly pcmFiles: PcmFiles;
  private readonly tickListener = (nowMs: number): void => this.tick(nowMs);
  private readonly onSent = (): void => {
    // A send error (peer unreachable) is not a reason to end the call; the media timeout is.
  };
  private media: NegotiatedAudio | null = null;
  /** The SRTP transform while the stream is keyed (SDES, or DTLS once its handshake is done). */
  private srtp: SrtpTransform | null = null;
  /** ICE and DTLS for a DTLS-SRTP stream; null otherwise. */
  private secure: DtlsIceTransport | null = null;
  private srtpFailuresInARow = 0;
  private pipeline: MediaPipeline | null = null;
  /** Where the SDP says to send; replaced by the latched source once RTP arrives. */
  private latched: RtpEndpoint | null = null;
  private rtcpLatched: RtpEndpoint | null = null;
  /** The latch is the SDP's own endpoint (nothing can be more authoritative). */
  private latchedToSignalled = false;
  private readonly mediaTimeout: MediaTimeout;
  private nextRtcpAt: number;
  private nextStatsAt: number;
  private readonly statsIntervalMs: number;
  /** What pipelines replaced by a codec change had counted, so the session's loss spans them. */
  private readonly carried = { expected: 0, lost: 0 };
  private roundTripMs: number | null = null;
  private bridge: SessionRoomBridge | null = null;
  private bridgeReady = false;
  private closing: Promise<SessionStats> | null = null;
  /** Created for an answer still unsent (see startMedia). */
  private awaitingAnswer: boolean;
  private readonly recordings: SessionRecordings;
  /** Set by close(): resolves once every recording has finished its file and been reported. */
  private recordingsClosed: Promise<void> | null = null;
  private readonly counters = { packetsReceived: 0, packetsSent: 0, bytesReceived: 0, bytesSent: 0 };

  constructor(private readonly options: RtpMediaSessionOptions) {
    this.id = options.id;
    this.random = options.random ?? Math.random;
    this.pcmFiles = options.pcmFiles ?? new PcmFiles();
    this.awaitingAnswer = options.awaitingAnswer === true;
    this.recordings = new SessionRecordings({
      sessionId: options.id,
      callId: options.callId,
      recording: options.recording,
      events: options.events,
      logger: options.logger,
    });
    const now = performance.now();
    this.mediaTimeout = new MediaTimeout(options.timeouts, now);
    // The first report goes out after half an interval (RFC 3550 §6.2's initial half).
    this.nextRtcpAt = now + nextRtcpIntervalMs(this.random, options.rtcpIntervalMs) / 2;
    this.statsIntervalMs = options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS;
    this.nextStatsAt = now + this.statsIntervalMs;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** Starts receiving and ticking; `media` is null while our offer waits for its answer. */
  start(media: NegotiatedAudio | null): void {
    if (media) this.applyMedia(media);
    const { rtpSocket, rtcpSocket } = this.options.lease;
    rtpSocket.on('message', (data, from) => this.onRtpDatagram(data, from));
    rtcpSocket.on('message', (data, from) => this.onRtcp(data, from));
    const onError = (error: Error): void => this.end('media_error', `RTP socket failed: ${error.message}`);
    rtpSocket.on('error', onError);
    rtcpSocket.on('error', onError);
    this.options.clock.add(this.tickListener);
  }

  answerOffer(sdp: string): AnswerOfferResult {
    const answer = this.options.sdp.answerOffer(sdp);
    this.applyMedia(answer.media);
    return { localSdp: answer.sdp, media: answer.media };
  }

  applyRemoteAnswer(sdp: string, provisional = false): ApplyRemoteAnswerResult {
    const media = this.options.sdp.applyAnswer(sdp, { provisional });
    this.applyMedia(media);
    return { media };
  }

  /**
   * Our answer has gone out (a 183 or the 200 OK): from now the session sends to the peer, starts
   * ICE and DTLS if the stream has them, and counts the peer's silence from now. Until then the
   * peer had no SDP of ours to send to, so neither direction had anything to do.
   */
  startMedia(): void {
    if (!this.awaitingAnswer || this.closed) return;
    this.awaitingAnswer = false;
    this.applyKeys();
    this.mediaTimeout.restart(performance.now());
  }

  /** Our re-INVITE offer: sendonly holds the peer, sendrecv resumes. Applied with its answer. */
  hold(hold: boolean): HoldResult {
    return { localSdp: this.options.sdp.createOffer({ direction: hold ? 'sendonly' : 'sendrecv' }).sdp };
  }

  sendDtmf(digits: string, durationMs: number | null): void {
    const upper = dtmfDigitsToSend(digits);
    const pipeline = this.pipeline;
    if (!pipeline?.canSendDtmf)
      throw new MediaCommandError('bad_request', 'the peer did not agree to telephone-event', 'sendDtmf');
    for (const digit of upper) pipeline.queueDtmf(digit, durationMs ?? DEFAULT_DTMF_DURATION_MS);
  }

  /** A digit the peer sent by SIP INFO (the main process got it): reported, then sent to the room. */
  injectDtmf(digit: string, durationMs: number | null): void {
    const upper = injectedDtmfDigit(digit);
    this.onSipDtmf({ digit: upper, durationMs: durationMs ?? DEFAULT_DTMF_DURATION_MS }, 'sip_info');
  }

  /** Joins the LiveKit room as this call's participant; audio flows from the next tick. */
  async connectRoom(params: ConnectRoomParams): Promise<ConnectRoomResult> {
    if (this.bridge)
      throw new MediaCommandError('bad_request', `session ${this.id} is already in a room`, 'connectRoom');
    const bridge = this.options.bridges.create({ url: params.url, token: params.token });
    this.bridge = bridge;
    const { events } = this.options;
    bridge.on('participantJoined', (identity) => {
      if (!this.closed) events.emit('participantJoined', { sessionId: this.id, identity });
    });
    bridge.on('participantLeft', (identity) => {
      if (!this.closed) events.emit('participantLeft', { sessionId: this.id, identity });
    });
    bridge.on('dtmf', ({ digit }) => this.onRoomDtmf(digit));
    bridge.on('closed', (reason) =>
      this.end(
        'room_closed',
        reason === 'room_deleted'
          ? `LiveKit room ${params.roomName} was deleted`
          : `disconnected from LiveKit room ${params.roomName}`,
      ),
    );
    try {
      await bridge.connect();
    } catch (error) {
      if (this.bridge === bridge) this.bridge = null;
      await bridge.close().catch(() => undefined);
      throw new MediaCommandError(
        'internal',
        `could not join LiveKit room ${params.roomName}: ${(error as Error).message}`,
        'connectRoom',
      );
    }
    if (this.closed) {
      throw new MediaCommandError(
        'session_not_found',
        `session ${this.id} closed while joining`,
        'connectRoom',
      );
    }
    this.bridgeReady = true;
    this.options.logger.info(
      { sessionId: this.id, callId: this.options.callId, room: params.roomName, identity: params.identity },
      'media session joined its room',
    );
    return { participantSid: null };
  }

  /**
   * Frees everything: clock, sockets and port (released at once), codec, room (left in the
   * background of the returned promise, bounded). Idempotent; resolves with the final stats.
   */
  close(): Promise<SessionStats> {
    if (this.closing) return this.closing;
    const stats = this.stats();
    this.options.clock.delete(this.tickListener);
    this.secure?.close();
    this.secure = null;
    this.options.lease.release();
    this.pipeline?.close();
    this.pipeline = null;
    this.playback = null;
    this.playbackFile?.release();
    this.playbackFile = null;
    this.bridgeReady = false;
    this.recordingsClosed = this.recordings.close();
    const bridge = this.bridge;
    this.bridge = null;
    const left = bridge ? leaveRoom(bridge, this.options.logger, this.id) : Promise.resolve();
    // Recordings end (recordingEnded) before the close is answered.
    this.closing = Promise.all([left, this.recordingsClosed]).then(() => stats);
    return this.closing;
  }

  stats(): SessionStats {
    const pipeline = this.pipeline;
    const snapshot = pipeline?.statistics.snapshot();
    return {
      ...this.counters,
      packetsExpected: this.carried.expected + (snapshot?.expected ?? 0),
      packetsLost: this.carried.lost + Math.max(0, snapshot?.cumulativeLost ?? 0),
      jitterMs: round(snapshot?.jitterMs ?? 0),
      roundTripMs: this.roundTripMs === null ? null : round(this.roundTripMs),
      mos: this.mos(),
    };
  }

  private applyMedia(media: NegotiatedAudio): void {
    const previous = this.media;
    this.media = media;
    if (previous && !sameEndpoint(previous.remoteRtp, media.remoteRtp)) {
      // The peer moved its stream: latch again to wherever its packets now come from.
      this.latched = null;
      this.rtcpLatched = null;
    }
    const old = this.pipeline;
    if (
      !old ||
      old.media.codec.name !== media.codec.name ||
      old.media.codec.payloadType !== media.codec.payloadType ||
      old.media.telephoneEvent?.payloadType !== media.telephoneEvent?.payloadType ||
      old.media.ptimeMs !== media.ptimeMs
    ) {
      this.pipeline = new MediaPipeline(media, {
        ssrc: this.ssrc,
        initialSequenceNumber: old?.sender.nextSequenceNumber ?? randomBytes(2).readUInt16BE(0),
        initialTimestamp: old?.sender.nextTimestamp ?? randomBytes(4).readUInt32BE(0),
      });
      if (old) {
        const counted = old.statistics.snapshot();
        this.carried.expected += counted.expected;
        this.carried.lost += Math.max(0, counted.cumulativeLost);
      }
      old?.close();
    }
    this.applyKeys();
    // Resuming or not: the media clock restarts from now, not from before the hold.
    this.mediaTimeout.restart(performance.now());
  }

  /**
   * Keeps, rekeys or drops the SRTP transform to match the last offer/answer. A DTLS stream gets
   * its keys later, from the handshake (onDtlsKeys); until then nothing is sent.
   */
  private applyKeys(): void {
    const agreement = this.options.sdp.dtls;
    // ICE checks toward a peer that has not got our credentials yet would only fail.
    if (agreement && this.awaitingAnswer) return;
    if (agreement) {
      this.secureTransport().apply(agreement);
      this.srtpFailuresInARow = 0;
      return;
    }
    this.secure?.close();
    this.secure = null;
    const keys = this.options.sdp.srtpKeys;
    if (!keys) {
      this.srtp = null;
    } else if (this.srtp && this.srtp.currentKeys.suite === keys.suite) {
      this.srtp.rekey(keys);
    } else {
      this.srtp = new SrtpTransform(keys);
    }
    this.srtpFailuresInARow = 0;
  }

  private secureTransport(): DtlsIceTransport {
    if (this.secure) return this.secure;
    const parts = this.options.secure;
    if (!parts) throw new Error('a DTLS-SRTP stream without the worker certificate');
    const { rtpSocket } = this.options.lease;
    const transport = new DtlsIceTransport({
      sessionId: this.id,
      certificate: parts.certificate,
      ice: parts.ice,
      localCandidate: parts.localCandidate,
      send: (data, to) => rtpSocket.send(data, to.port, to.address, this.onSent),
      logger: this.options.logger,
      ...(this.options.secureTimers ? { timers: this.options.secureTimers } : {}),
    });
    transport.on('keys', (keys) => this.onDtlsKeys(keys));
    transport.on('failed', ({ reason, message }) => this.end(reason, message));
    this.secure = transport;
    return transport;
  }

  private onDtlsKeys(keys: SrtpKeys): void {
    if (this.closed) return;
    this.srtp = new SrtpTransform(keys);
    this.srtpFailuresInARow = 0;
  }

  private get sending(): boolean {
    const direction = this.media?.direction;
    return direction === 'sendrecv' || direction === 'sendonly';
  }

  private target(): RtpEndpoint | null {
    // DTLS-SRTP goes where ICE found the peer, and only once the handshake has keyed it.
    if (this.secure) return this.secure.target;
    const endpoint = this.latched ?? this.media?.remoteRtp ?? null;
    if (!endpoint || endpoint.port === 0 || endpoint.address === '0.0.0.0') return null;
    return endpoint;
  }

  private tick(nowMs: number): void {
    if (this.closed) return;
    try {
      if (this.awaitingAnswer) {
        this.whileAwaitingAnswer();
        return;
      }
      if (this.timedOut(nowMs)) return;
      const pipeline = this.pipeline;
      if (pipeline) for (const digit of pipeline.pollDtmf(nowMs)) this.onSipDtmf(digit);
      const bridge = this.bridgeReady ? this.bridge : null;
      const played = this.playback ? this.nextPlaybackFrame() : null;
      let talking = 0;
      /** The caller's own audio this tick, for recordings (null: not decoded, nobody records). */
      let recorded: Int16Array | null = null;
      if (bridge) {
        // Caller → room: one frame per tick, concealed or silent when nothing came.
        let caller = pipeline ? pipeline.playout48k() : this.silence48k;
        recorded = caller;
        if (played && this.playback?.toRoom) {
          // Our own frame: the playout's is a reused view we may not write to.
          this.playFrame48k.set(caller);
          mixInto(this.playFrame48k, played);
          caller = this.playFrame48k;
        }
        bridge.pushCallerAudio(caller);
        talking = bridge.readMix(this.mix48k);
      } else if (this.recordings.recording) {
        // No room, but a recording (voicemail): the caller is decoded for it alone.
        recorded = pipeline ? pipeline.playout48k() : this.silence48k;
      } else {
        pipeline?.drainPlayout();
      }
      if (played && this.playback?.toSip) {
        if (talking === 0) this.mix48k.fill(0);
        mixInto(this.mix48k, played);
        talking = 1;
      }
      if (recorded && this.recordings.recording) {
        this.recordings.frame(recorded, talking > 0 ? this.mix48k : null, nowMs);
      }
      if (pipeline) {
        const target = this.sending ? this.target() : null;
        if (target) {
          // Room → caller. Nobody talking is still sent, as encoded silence, so NAT bindings and
          // the peer's own media timers stay alive.
          const packet = pipeline.nextPacket(talking > 0 ? this.mix48k : null);
          if (packet) this.send(this.options.lease.rtpSocket, packet, target);
        } else {
          pipeline.skipFrame();
        }
      }
      if (nowMs >= this.nextRtcpAt) this.report(nowMs);
      if (nowMs >= this.nextStatsAt) {
        this.nextStatsAt = nowMs + this.statsIntervalMs;
        if (pipeline) this.options.events.emit('stats', { sessionId: this.id, stats: this.stats() });
      }
    } catch (error) {
      this.options.logger.error({ err: error, sessionId: this.id }, 'media session tick failed');
      this.end('media_error', `media processing failed: ${(error as Error).message}`);
    }
  }

  /**
   * Starts playing a tone, silence or a decoded file (replacing one in progress); playbackEnded
   * reports its end. A file is read first: a play (or close) that comes meanwhile supersedes it,
   * and it ends `stopped` without being heard, so plays take effect in the order they were sent.
   */
  async play(params: PlayParams): Promise<PlayResult> {
    const { source } = params;
    if (source.kind === 'url')
      throw new MediaCommandError('bad_request', 'playing a URL is not supported yet', 'play');
    const generation = ++this.playGeneration;
    const playbackId = `pb_${randomBytes(8).toString('hex')}`;
    let file: PcmFileLease | null = null;
    if (source.kind === 'file') {
      try {
        file = await this.pcmFiles.acquire(source.path);
      } catch (error) {
        throw new MediaCommandError(
          'bad_request',
          `cannot read ${source.path}: ${(error as Error).message}`,
          'play',
        );
      }
      if (this.closed || generation !== this.playGeneration) {
        file.release();
        this.options.events.emit('playbackEnded', { sessionId: this.id, playbackId, reason: 'stopped' });
        return { playbackId };
      }
    }
    if (this.playback) this.endPlayback('stopped');
    this.playback = new Playback(playbackId, source, params.target, params.loop, file?.samples ?? null);
    this.playbackFile = file;
    return { playbackId };
  }

  /** Starts recording this call into recording.dir; recordingEnded reports its end. */
  async startRecording(params: StartRecordingParams): Promise<StartRecordingResult> {
    if (this.closed) {
      throw new MediaCommandError('session_not_found', `session ${this.id} is closing`, 'startRecording');
    }
    return this.recordings.start(params);
  }

  /** Stops a recording; resolves once its file is finished. */
  stopRecording(recordingId: string): Promise<StopRecordingResult> {
    return this.recordings.stop(recordingId);
  }

  private nextPlaybackFrame(): Int16Array | null {
    const frame = this.playback?.next() ?? null;
    if (!frame) this.endPlayback('finished');
    return frame;
  }

  private endPlayback(reason: 'finished' | 'stopped'): void {
    const playback = this.playback;
    if (!playback) return;
    this.playback = null;
    this.playbackFile?.release();
    this.playbackFile = null;
    this.options.events.emit('playbackEnded', { sessionId: this.id, playbackId: playback.id, reason });
  }

  private send(socket: Socket, packet: Uint8Array, to: RtpEndpoint): void {
    // protectRtp returns a buffer of its own, so only plain packets need the ring's copy.
    const wire = this.srtp ? this.srtp.protectRtp(packet) : this.ring.copy(packet);
    socket.send(wire, to.port, to.address, this.onSent);
    this.counters.packetsSent++;
    this.counters.bytesSent += packet.length;
  }

  private onRtpDatagram(data: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    if (this.secure?.receive(data, { address: from.address, port: from.port })) return;
    if (looksLikeRtcp(data)) {
      this.onRtcp(data, from);
      return;
    }
    const srtp = this.srtp;
    // A DTLS stream carries nothing usable before its keys: whatever comes is not ours to play.
    if (this.secure && !srtp) return;
    // Under ICE the peer's address is ICE's to choose (a controlling peer may nominate another
    // pair mid-call) and SRTP proves each packet is the peer's: no latch, only plain RTP latches.
    const latched = this.secure ? null : this.latched;
    if (latched && (latched.port !== from.port || latched.address !== from.address)) {
      // Only a packet from exactly the signalled endpoint may take over a latch learnt elsewhere:
      // after a re-INVITE moves the stream, a late packet of the old one must not keep it.
      const signalled = this.media?.remoteRtp;
      if (
        this.latchedToSignalled ||
        !signalled ||
        signalled.port !== from.port ||
        signalled.address !== from.address
      )
        return;
      this.latched = null;
    }
    // Under SRTP only an authentic packet may latch or count as media.
    const plain = srtp ? this.unprotected(srtp.unprotectRtp(data)) : data;
    if (!plain) return;
    let packet: ReturnType<typeof parseRtpPacket>;
    try {
      packet = parseRtpPacket(plain);
    } catch {
      return;
    }
    const now = performance.now();
    if (!this.latched && !this.secure) {
      this.latched = { address: from.address, port: from.port };
      const signalled = this.media?.remoteRtp;
      this.latchedToSignalled = signalled?.port === from.port && signalled.address === from.address;
    }
    if (this.mediaTimeout.heard(now)) {
      this.options.events.emit('firstPacket', {
        sessionId: this.id,
        from: { address: from.address, port: from.port },
        at: Date.now(),
      });
    }
    this.counters.packetsReceived++;
    this.counters.bytesReceived += data.length;
    const digits = this.pipeline?.receive(packet, now);
    if (digits) for (const digit of digits) this.onSipDtmf(digit);
  }

  /**
   * The decrypted packet, or null when it must be dropped. Authentication failures are counted;
   * enough in a row end the call, since its audio cannot be heard.
   */
  private unprotected(result: ReturnType<SrtpTransform['unprotectRtp']>): Buffer | null {
    if (result.ok) {
      this.srtpFailuresInARow = 0;
      return result.packet;
    }
    if (result.failure === 'auth' && ++this.srtpFailuresInARow === SRTP_FAILURES_TO_END) {
      this.options.logger.warn(
        { sessionId: this.id, callId: this.options.callId },
        'SRTP authentication keeps failing',
      );
      this.end('media_error', `SRTP authentication failed for ${SRTP_FAILURES_TO_END} packets in a row`);
    }
    return null;
  }

  private onRtcp(data: Buffer, from: RemoteInfo): void {
    if (this.closed) return;
    const srtp = this.srtp;
    if (this.secure && !srtp) return;
    const plain = srtp ? this.unprotected(srtp.unprotectRtcp(data)) : data;
    if (!plain) return;
    let packets: ReturnType<typeof parseRtcpCompound>;
    try {
      packets = parseRtcpCompound(plain);
    } catch {
      return;
    }
    if (!this.media?.rtcpMux) this.rtcpLatched ??= { address: from.address, port: from.port };
    const arrivalUnixMs = Date.now();
    for (const packet of packets) {
      if (packet.type === 'sr') {
        this.pipeline?.statistics.onSenderReport(packet.ntpSeconds, packet.ntpFraction, performance.now());
        this.readBlocks(packet.reports, arrivalUnixMs);
      } else if (packet.type === 'rr') {
        this.readBlocks(packet.reports, arrivalUnixMs);
      }
    }
  }

  private readBlocks(blocks: readonly ReportBlock[], arrivalUnixMs: number): void {
    for (const block of blocks) {
      if (block.ssrc !== this.ssrc) continue;
      const rtt = roundTripTimeMs(block, arrivalUnixMs);
      if (rtt !== undefined) this.roundTripMs = rtt;
    }
  }

  /** Our RR/SR on RTP + 1 (or the RTP port under rtcp-mux). */
  private report(nowMs: number): void {
    this.nextRtcpAt = nowMs + nextRtcpIntervalMs(this.random, this.options.rtcpIntervalMs);
    const pipeline = this.pipeline;
    const media = this.media;
    if (!pipeline || !media) return;
    const senderStats = pipeline.sender.getStats();
    const report = buildRtcpReport({
      ssrc: this.ssrc,
      cname: this.cname,
      ...(senderStats.packetsSent > 0
        ? { sender: { stats: senderStats, rtpTimestampNow: pipeline.sender.nextTimestamp } }
        : {}),
      receiver: pipeline.statistics,
      nowUnixMs: Date.now(),
      nowMs,
    });
    const { rtpSocket, rtcpSocket } = this.options.lease;
    const to = media.rtcpMux ? this.target() : (this.rtcpLatched ?? media.remoteRtcp);
    if (to && to.port !== 0 && to.address !== '0.0.0.0') {
      const wire = this.srtp ? this.srtp.protectRtcp(report) : report;
      (media.rtcpMux ? rtpSocket : rtcpSocket).send(wire, to.port, to.address, this.onSent);
    }
  }

  /**
   * A tick before our answer went out: the room's audio is taken and dropped, so the caller does
   * not hear what was said before the answer, and whatever the peer sent early is let go.
   */
  private whileAwaitingAnswer(): void {
    if (this.bridgeReady) this.bridge?.readMix(this.mix48k);
    this.pipeline?.drainPlayout();
  }

  /** No RTP for the limit while we expect some ends the session; a hold stops the clock. */
  private timedOut(nowMs: number): boolean {
    const verdict = this.mediaTimeout.check(nowMs, this.media?.direction);
    if (!verdict) return false;
    const { phase, silentMs, message } = verdict;
    this.options.events.emit('mediaTimeout', { sessionId: this.id, phase, silentMs });
    this.end('media_timeout', message);
    return true;
  }

  /** A digit from the SIP peer, by RTP or INFO: reported, then sent to the room as SIP DTMF. */
  private onSipDtmf(
    received: Pick<ReceivedDtmf, 'durationMs'> & { digit: string },
    source: 'rfc4733' | 'sip_info' = 'rfc4733',
  ): void {
    this.options.events.emit('dtmf', {
      sessionId: this.id,
      digit: received.digit,
      durationMs: received.durationMs,
      source,
    });
    const bridge = this.bridgeReady ? this.bridge : null;
    bridge
      ?.sendDtmf(received.digit)
      .catch((error: unknown) =>
        this.options.logger.warn({ err: error, sessionId: this.id }, 'DTMF not delivered to the room'),
      );
  }

  private onRoomDtmf(digit: string): void {
    if (this.closed) return;
    this.options.events.emit('dtmf', {
      sessionId: this.id,
      digit,
      durationMs: ROOM_DTMF_DURATION_MS,
      source: 'room',
    });
    const pipeline = this.pipeline;
    if (!pipeline?.canSendDtmf) return;
    try {
      pipeline.queueDtmf(digit, ROOM_DTMF_DURATION_MS);
    } catch {
      // A code the SIP side cannot carry (LiveKit allows any); nothing to send.
    }
  }

  /** The session ends on its own: free everything, then let the handler report it once. */
  private end(reason: SessionCloseReason, message: string): void {
    if (this.closed) return;
    const recording = this.recordings.recording;
    // The last figures, for the call's quality: nobody asks for them with a closeSession.
    if (this.pipeline) this.options.events.emit('stats', { sessionId: this.id, stats: this.stats() });
    void this.close();
    if (!recording) {
      this.options.onEnded(this, reason, message);
      return;
    }
    // Recordings finish their files and send recordingEnded before sessionClosed goes out.
    void this.recordingsClosed?.then(() => this.options.onEnded(this, reason, message));
  }

  private mos(): number | null {
    const pipeline = this.pipeline;
    if (!pipeline) return null;
    const snapshot = pipeline.statistics.snapshot();
    if (snapshot.received < MOS_MIN_PACKETS || snapshot.expected <= 0) return null;
    const jitter = pipeline.jitter.getStats();
    // Late packets are lost to the listener too.
    const lost = Math.max(0, snapshot.cumulativeLost) + jitter.late;
    const estimate = estimateMos({
      impairment: CODEC_IMPAIRMENTS[pipeline.codec.name],
      packetLossPercent: (100 * lost) / snapshot.expected,
      oneWayDelayMs: (this.roundTripMs ?? 0) / 2 + jitter.currentDelayMs,
    });
    return round(estimate.mos);
  }
}

function sameEndpoint(a: RtpEndpoint, b: RtpEndpoint): boolean {
  return a.address === b.address && a.port === b.port;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Leaves the room, bounded: a hung disconnect must not keep a closed call's command open. */
async function leaveRoom(
  bridge: SessionRoomBridge,
  logger: RtpMediaSessionOptions['logger'],
  sessionId: string,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.warn({ sessionId }, 'leaving the LiveKit room timed out');
      resolve();
    }, BRIDGE_CLOSE_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      bridge
        .close()
        .catch((error: unknown) => logger.warn({ err: error, sessionId }, 'leaving the room failed')),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
