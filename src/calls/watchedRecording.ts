import type { MediaSession } from '../media/workers/MediaSession.js';
import type { RecordingEndedEvent, StartRecordingParams } from '../media/workers/mediaChannelTypes.js';
import type { RecordingFormat } from '../recording/recordingTypes.js';
import type { RecordingKind } from '../store/recordingStore.js';

export interface WatchedRecording {
  recordingId: string;
  /**
   * Its recordingEnded; null when the session closed without one (its worker died: ffmpeg still
   * finishes the file, but nobody reports it).
   */
  ended: Promise<RecordingEndedEvent | null>;
}

/** A recording the worker started: what the journal is told first. */
export interface StartedRecording {
  recordingId: string;
  callId: string;
  kind: RecordingKind;
  format: RecordingFormat;
  /** The file, absolute. */
  path: string;
}

/**
 * Where a call's recordings are written down (CallRecordings: the recordings table), told of
 * each start and, once, of its end: the worker's recordingEnded, or null when the session closed
 * without one (its worker died).
 */
export interface RecordingJournal {
  started(recording: StartedRecording): void;
  ended(recordingId: string, end: RecordingEndedEvent | null): void;
}

/** Whose recording it is, and the journal to tell (none: nothing is written down). */
export interface RecordingOwner {
  callId: string;
  kind: RecordingKind;
  journal: RecordingJournal | undefined;
}

/**
 * Starts a recording on `session` and watches for its end; `owner`'s journal hears of both. The
 * end can overtake the start's answer (a caller hanging up at once), so ends seen before the id is
 * known are kept and matched.
 */
export async function startWatchedRecording(
  session: MediaSession,
  params: Omit<StartRecordingParams, 'sessionId'>,
  owner?: RecordingOwner,
): Promise<WatchedRecording> {
  let recordingId: string | undefined;
  const early: RecordingEndedEvent[] = [];
  let settle: (event: RecordingEndedEvent | null) => void = () => undefined;
  const ended = new Promise<RecordingEndedEvent | null>((resolve) => {
    settle = resolve;
  });
  const finish = (event: RecordingEndedEvent | null): void => {
    session.off('recordingEnded', onEnded);
    session.off('closed', onClosed);
    if (recordingId !== undefined) owner?.journal?.ended(recordingId, event);
    settle(event);
  };
  const onEnded = (event: RecordingEndedEvent): void => {
    if (recordingId === undefined) early.push(event);
    else if (event.recordingId === recordingId) finish(event);
  };
  // recordingEnded comes before the session's close; a close with none means a dead worker.
  const onClosed = (): void => {
    if (recordingId !== undefined) finish(null);
  };
  session.on('recordingEnded', onEnded);
  session.on('closed', onClosed);
  try {
    const started = await session.startRecording(params);
    recordingId = started.recordingId;
    if (owner?.journal) {
      const { callId, kind } = owner;
      owner.journal.started({ recordingId, callId, kind, format: params.format, path: started.path });
    }
    const already = early.find((event) => event.recordingId === started.recordingId);
    if (already) finish(already);
    else if (session.closed) finish(null);
    return { recordingId: started.recordingId, ended };
  } catch (error) {
    session.off('recordingEnded', onEnded);
    session.off('closed', onClosed);
    throw error;
  }
}

/** What the control plane is told of a finished recording. */
export function recordingSummary(event: RecordingEndedEvent): Record<string, unknown> {
  return {
    id: event.recordingId,
    path: event.path,
    format: event.format,
    durationMs: event.durationMs,
    bytes: event.bytes,
    reason: event.reason,
  };
}
