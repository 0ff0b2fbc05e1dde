import type { Logger } from 'pino';
import type { MediaSession } from '../media/workers/MediaSession.js';
import type { RecordingFormat } from '../recording/recordingTypes.js';
import type { CallingConfigStore } from '../store/callingConfigStore.js';
import type { CallService } from './callService.js';
import { recordingSummary, startWatchedRecording } from './watchedRecording.js';

/** Where an app's calling settings come from (its calling configuration, or the defaults). */
export type CallSettingsSource = Pick<CallingConfigStore, 'settingsFor'>;

/** The format an app's answered calls are recorded in (autoRecordEnabled), or null for none. */
export function autoRecordFormat(settings: CallSettingsSource, appId: string): RecordingFormat | null {
  const { autoRecordEnabled, recordingFormat } = settings.settingsFor(appId);
  return autoRecordEnabled ? recordingFormat : null;
}

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
  startWatchedRecording(
    session,
    { format, tracks: 'both' },
    { callId, kind: 'call', journal: calls.recordings },
  )
    .then(async ({ ended }) => {
      const event = await ended;
      if (!event) {
        logger.warn({ callId }, 'call recording ended with its media worker; its file is not reported');
        return;
      }
      if (event.reason === 'error') logger.error({ callId, message: event.message }, 'call recording failed');
      if (event.bytes > 0)
        calls.appendEvent(callId, 'calls.recording.completed', { recording: recordingSummary(event) });
    })
    .catch((error: unknown) => {
      if (!session.closed) logger.error({ callId, err: error }, 'call recording could not start');
    });
}
