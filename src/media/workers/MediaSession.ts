import { EventEmitter } from 'node:events';
import type {
  AnswerOfferResult,
  ApplyRemoteAnswerResult,
  CloseSessionResult,
  CommandParams,
  CommandResult,
  ConnectRoomParams,
  ConnectRoomResult,
  EventMessage,
  HoldResult,
  PlayParams,
  PlayResult,
  SessionCloseReason,
  SessionCommandName,
  SessionStats,
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingResult,
} from './mediaChannelTypes.js';
import { MediaCommandError } from './mediaCommandError.js';
import type { MediaSessionEvents, SessionClosedInfo, SessionTransport } from './mediaSessionTypes.js';

type WithoutSession<T> = Omit<T, 'sessionId'>;

/**
 * One call's media, seen from the main process: commands go to the worker that holds it,
 * its events come back here. 'closed' is emitted exactly once, whichever way the session ends
 * (close(), the worker ending it, the worker dying, the pool closing).
 */
export class MediaSession extends EventEmitter<MediaSessionEvents> {
  private closedInfo: SessionClosedInfo | null = null;
  private closing: Promise<CloseSessionResult | null> | null = null;

  constructor(
    readonly id: string,
    readonly workerIndex: number,
    private readonly transport: SessionTransport,
  ) {
    super();
  }

  get closed(): boolean {
    return this.closedInfo !== null;
  }

  /** Why it closed, once it has. */
  get closeInfo(): SessionClosedInfo | null {
    return this.closedInfo;
  }

  /** The peer's re-INVITE offer → our answer (hold, resume, codec change, refresh). */
  answerOffer(sdp: string): Promise<AnswerOfferResult> {
    return this.command('answerOffer', { sessionId: this.id, sdp });
  }

  applyRemoteAnswer(sdp: string, options: { provisional?: boolean } = {}): Promise<ApplyRemoteAnswerResult> {
    return this.command('applyRemoteAnswer', { sessionId: this.id, sdp, ...options });
  }

  connectRoom(params: WithoutSession<ConnectRoomParams>, timeoutMs?: number): Promise<ConnectRoomResult> {
    return this.command('connectRoom', { ...params, sessionId: this.id }, timeoutMs);
  }

  play(params: WithoutSession<PlayParams>, timeoutMs?: number): Promise<PlayResult> {
    return this.command('play', { ...params, sessionId: this.id }, timeoutMs);
  }

  async sendDtmf(digits: string, durationMs: number | null = null): Promise<void> {
    await this.command('sendDtmf', { sessionId: this.id, digits, durationMs });
  }

  /**
   * A digit the caller sent by SIP INFO: the worker reports it as received (a `dtmf` event with
   * source sip_info, in order with RFC 4733 digits) and publishes it to the room as SIP DTMF.
   */
  async injectDtmf(digit: string, durationMs: number | null = null): Promise<void> {
    await this.command('injectDtmf', { sessionId: this.id, digit, durationMs, source: 'sip_info' });
  }

  /** Our answer went out: a session created awaitingAnswer starts sending and timing its media. */
  async startMedia(): Promise<void> {
    await this.command('startMedia', { sessionId: this.id });
  }

  /** Our re-INVITE offer for hold (true) or resume (false); its answer goes to applyRemoteAnswer. */
  hold(hold: boolean): Promise<HoldResult> {
    return this.command('hold', { sessionId: this.id, hold });
  }

  /**
   * Starts recording the call into recording.dir (`<callId>-<recordingId>.<format>`): the caller
   * alone (`tracks: 'caller'`, voicemail) or the caller and what the caller hears mixed
   * (`'both'`, whole calls). Resolves once ffmpeg runs; rejects (code internal) when it cannot
   * start. Every recording this returns ends with one 'recordingEnded' (stopped, max_duration,
   * session_closed, error), sent before this session's 'closed' — except when the worker dies:
   * 'closed' (media_error) alone then, and ffmpeg finishes the file at `path` by itself.
   */
  startRecording(
    params: WithoutSession<StartRecordingParams>,
    timeoutMs?: number,
  ): Promise<StartRecordingResult> {
    return this.command('startRecording', { ...params, sessionId: this.id }, timeoutMs);
  }

  /**
   * Stops a recording; resolves with the finished file once ffmpeg has written it (its
   * 'recordingEnded', reason stopped, comes first). A recording that already ended answers with
   * its file all the same.
   */
  stopRecording(recordingId: string, timeoutMs?: number): Promise<StopRecordingResult> {
    return this.command('stopRecording', { sessionId: this.id, recordingId }, timeoutMs);
  }

  /**
   * Ends the session in its worker. Idempotent; resolves with the worker's final stats, or null
   * when the worker could not say (already closed, died, timed out). Never rejects: a call being
   * torn down must not fail on its media. The final stats are also emitted as a last 'stats',
   * just before 'closed', so a listener of the events sees the session's whole life.
   */
  close(reason: SessionCloseReason = 'normal'): Promise<CloseSessionResult | null> {
    if (this.closing) return this.closing;
    if (this.closedInfo) return Promise.resolve(null);
    this.closing = this.transport
      .request('closeSession', { sessionId: this.id, reason })
      .catch(() => null)
      .then((result) => {
        if (result?.stats && !this.closedInfo) this.finalStats(result.stats);
        return result;
      })
      .finally(() => this.markClosed({ reason, message: null }));
    return this.closing;
  }

  /** Routes one of the worker's events to this session's listeners. */
  handleEvent(message: EventMessage): void {
    if (this.closedInfo) return;
    switch (message.event) {
      case 'sessionClosed':
        this.markClosed({ reason: message.data.reason, message: message.data.message });
        return;
      case 'firstPacket':
        this.emit('firstPacket', message.data);
        return;
      case 'dtmf':
        this.emit('dtmf', message.data);
        return;
      case 'mediaTimeout':
        this.emit('mediaTimeout', message.data);
        return;
      case 'stats':
        this.emit('stats', message.data);
        return;
      case 'participantJoined':
        this.emit('participantJoined', message.data);
        return;
      case 'participantLeft':
        this.emit('participantLeft', message.data);
        return;
      case 'playbackEnded':
        this.emit('playbackEnded', message.data);
        return;
      case 'recordingEnded':
        this.emit('recordingEnded', message.data);
        return;
    }
  }

  private finalStats(stats: SessionStats): void {
    try {
      this.emit('stats', { sessionId: this.id, stats });
    } catch {
      // A listener's failure must not fail the close (which never rejects).
    }
  }

  /** Records the end once and tells listeners; later calls are ignored. */
  markClosed(info: SessionClosedInfo): void {
    if (this.closedInfo) return;
    this.closedInfo = info;
    this.emit('closed', info);
  }

  private command<M extends SessionCommandName>(
    method: M,
    params: CommandParams<M>,
    timeoutMs?: number,
  ): Promise<CommandResult<M>> {
    if (this.closedInfo || this.closing) {
      return Promise.reject(
        new MediaCommandError('session_not_found', `media session ${this.id} is closed`, method),
      );
    }
    return this.transport.request(method, params, timeoutMs);
  }
}
