import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { Recorder } from '../../recording/Recorder.js';
import { DEFAULT_RECORDING_DIR, newRecordingId, recordingPath } from '../../recording/recordingPath.js';
import {
  RECORDING_FORMATS,
  type RecordingOutcome,
  type RecordingSummary,
} from '../../recording/recordingTypes.js';
import type {
  RecordingInit,
  StartRecordingParams,
  StartRecordingResult,
  StopRecordingResult,
} from '../workers/mediaChannelTypes.js';
import { MediaCommandError } from '../workers/mediaCommandError.js';
import type { SessionEventSink } from '../workers/sessionHandlerTypes.js';
import { BRIDGE_FRAME_SAMPLES } from './mediaPipelineTypes.js';
import { mixInto } from './playback.js';

export interface SessionRecordingsOptions {
  sessionId: string;
  /** Names the files; the session id stands in when the call has none. */
  callId: string | null;
  /** recording.dir and ffmpeg; DEFAULT_RECORDING_DIR and ffmpeg on PATH when absent. */
  recording: RecordingInit | undefined;
  events: SessionEventSink;
  logger: Logger;
}

interface ActiveRecording {
  tracks: StartRecordingParams['tracks'];
  recorder: Recorder;
}

/**
 * The recordings of one media session. The session hands over each tick's caller frame and what
 * the caller heard; each recording takes the caller alone or both mixed. Every recording that
 * startRecording returned ends with exactly one recordingEnded event, sent once its file is done.
 */
export class SessionRecordings {
  private readonly active = new Map<string, ActiveRecording>();
  /** How ended recordings ended, so a stopRecording that lost the race with their end still answers. */
  private readonly finished = new Map<string, RecordingSummary>();
  private readonly mixed = new Int16Array(BRIDGE_FRAME_SAMPLES);
  private closed = false;

  constructor(private readonly options: SessionRecordingsOptions) {}

  /** Whether any recording takes frames (the session decodes the caller only for a listener). */
  get recording(): boolean {
    return this.active.size > 0;
  }

  async start(params: StartRecordingParams): Promise<StartRecordingResult> {
    validate(params);
    const { sessionId, callId, recording } = this.options;
    if (this.closed) throw closedError(sessionId);
    const recordingId = newRecordingId();
    const path = recordingPath(
      recording?.dir ?? DEFAULT_RECORDING_DIR,
      callId ?? sessionId,
      recordingId,
      params.format,
    );
    let recorder: Recorder;
    try {
      await mkdir(dirname(path), { recursive: true });
      recorder = await Recorder.start({
        path,
        format: params.format,
        maxDurationMs: params.maxDurationMs ?? null,
        ...(recording?.ffmpegPath ? { ffmpegPath: recording.ffmpegPath } : {}),
        onEnded: (outcome) => this.onEnded(recordingId, outcome),
      });
    } catch (error) {
      throw new MediaCommandError(
        'internal',
        `recording failed to start: ${(error as Error).message}`,
        'startRecording',
      );
    }
    if (this.closed) {
      // The session closed while ffmpeg started: nobody was told of this recording, so no event.
      await recorder.stop('session_closed');
      throw closedError(sessionId);
    }
    this.active.set(recordingId, { tracks: params.tracks, recorder });
    this.options.logger.info(
      { sessionId, callId, recordingId, path, format: params.format, tracks: params.tracks },
      'recording started',
    );
    return { recordingId, path };
  }

  /** Stops one recording and answers once its file is finished (after its recordingEnded). */
  async stop(recordingId: string): Promise<StopRecordingResult> {
    const active = this.active.get(recordingId);
    if (active) {
      const { path, format, durationMs, bytes } = await active.recorder.stop('stopped');
      return { path, format, durationMs, bytes };
    }
    const finished = this.finished.get(recordingId);
    if (finished) return finished;
    throw new MediaCommandError(
      'bad_request',
      `no recording ${recordingId} in this session`,
      'stopRecording',
    );
  }

  /**
   * One tick: the caller's 20 ms and what the caller heard (null: silence), both 48 kHz mono.
   * Copied before this returns, so reused buffers are fine.
   */
  frame(caller: Int16Array, heard: Int16Array | null, nowMs: number): void {
    let both: Int16Array | null = null;
    for (const { tracks, recorder } of this.active.values()) {
      if (tracks === 'caller') {
        recorder.write(caller, nowMs);
        continue;
      }
      if (!both) {
        both = this.mixed;
        both.set(caller);
        if (heard) mixInto(both, heard);
      }
      recorder.write(both, nowMs);
    }
  }

  /** The session is closing: ends every recording (session_closed) and resolves once all are reported. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.active.values()].map(({ recorder }) => recorder.stop('session_closed')));
  }

  private onEnded(recordingId: string, outcome: RecordingOutcome): void {
    if (!this.active.delete(recordingId)) return;
    const { reason, message, ...summary } = outcome;
    this.finished.set(recordingId, summary);
    const { sessionId, callId, events, logger } = this.options;
    logger[reason === 'error' ? 'warn' : 'info'](
      { sessionId, callId, recordingId, ...summary, reason, message },
      'recording ended',
    );
    events.emit('recordingEnded', { sessionId, recordingId, ...summary, reason, message });
  }
}

function validate(params: StartRecordingParams): void {
  if (!RECORDING_FORMATS.includes(params.format)) {
    throw new MediaCommandError(
      'bad_request',
      `format must be one of ${RECORDING_FORMATS.join(', ')}`,
      'startRecording',
    );
  }
  if (params.tracks !== 'caller' && params.tracks !== 'both') {
    throw new MediaCommandError('bad_request', "tracks must be 'caller' or 'both'", 'startRecording');
  }
  const max = params.maxDurationMs;
  if (max !== undefined && (!Number.isInteger(max) || max < 20)) {
    throw new MediaCommandError(
      'bad_request',
      'maxDurationMs must be a whole number of at least 20',
      'startRecording',
    );
  }
}

function closedError(sessionId: string): MediaCommandError {
  return new MediaCommandError('session_not_found', `session ${sessionId} is closing`, 'startRecording');
}
