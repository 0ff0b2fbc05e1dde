import type { Logger } from 'pino';
import type { MediaSession } from '../media/workers/MediaSession.js';
import type { RecordingEndedEvent } from '../media/workers/mediaChannelTypes.js';
import type { RecordingFormat } from '../recording/recordingTypes.js';
import type { CallService } from './callService.js';

/** The format an app's answered calls are recorded in (autoRecordEnabled), or null for none. */
export type AutoRecordFormat = (appId: string) => RecordingFormat | null;

/**
 * Records a whole answered call (the caller and what the caller hears, mixed) until its media
 * session ends; the finished file becomes a `calls.recording.completed` event. A recording that
 * cannot start is logged and the call goes on without it.
 */
export function recordWholeCall(
  session: MediaSession,
  calls: CallService,
  callId: string,
  format: RecordingFormat,
  logger: Logger,
): void {
  let recordingId: string | undefined;
  const early: RecordingEndedEvent[] = [];
  const finished = (event: RecordingEndedEvent): void => {
    session.off('recordingEnded', onEnded);
    if (event.reason === 'error') logger.error({ callId, message: event.message }, 'call recording failed');
    if (event.bytes === 0) return;
    calls.appendEvent(callId, 'calls.recording.completed', {
      recording: {
        id: event.recordingId,
        path: event.path,
        format: event.format,
        durationMs: event.durationMs,
        bytes: event.bytes,
        reason: event.reason,
      },
    });
  };
  const onEnded = (event: RecordingEndedEvent): void => {
    if (recordingId === undefined) early.push(event);
    else if (event.recordingId === recordingId) finished(event);
  };
  // The end can overtake the start's answer (a call that ends at once).
  session.on('recordingEnded', onEnded);
  session.startRecording({ format, tracks: 'both' }).then(
    (started) => {
      recordingId = started.recordingId;
      const ended = early.find((event) => event.recordingId === started.recordingId);
      if (ended) finished(ended);
    },
    (error: unknown) => {
      session.off('recordingEnded', onEnded);
      if (!session.closed) logger.error({ callId, err: error }, 'call recording could not start');
    },
  );
}
