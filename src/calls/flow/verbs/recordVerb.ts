import type { DtmfEvent, RecordingEndedEvent } from '../../../media/workers/mediaChannelTypes.js';
import { playToEnd, RECORD_BEEP } from '../../playToEnd.js';
import { recordingSummary, startWatchedRecording } from '../../watchedRecording.js';
import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';

/** How a message recording ended, as its calls.recording.completed event says. */
export type RecordEnd = 'finishOnKey' | 'maxLength' | 'hangup' | 'flowStopped' | 'error';

const END_OF: Partial<Record<RecordingEndedEvent['reason'], RecordEnd>> = {
  max_duration: 'maxLength',
  session_closed: 'hangup',
  error: 'error',
};

/**
 * Records a message from the caller (after a tone) in the app's recordingFormat, until
 * maxLengthSeconds, the finish key, the caller hanging up, or the flow being replaced. However it
 * ends, the file is kept and one calls.recording.completed event reports it, so a caller who hangs
 * up to finish their message loses nothing.
 */
export class RecordVerb implements FlowVerb {
  readonly command = 'record';

  constructor(private readonly spec: VerbSpec<'record'>) {}

  async run(context: FlowContext): Promise<void> {
    const session = await context.answered();
    if (this.spec.beep) await context.wait(playToEnd(session, RECORD_BEEP));
    const { recordingId, ended } = await startWatchedRecording(
      session,
      {
        format: context.recordingFormat,
        tracks: this.spec.tracks,
        maxDurationMs: this.spec.maxLengthSeconds * 1000,
      },
      { callId: context.callId, kind: 'flow', journal: context.recordings },
    );
    let finishKeyPressed = false;
    const stop = (): void => {
      if (!session.closed) void session.stopRecording(recordingId).catch(() => undefined);
    };
    const onDigit = (event: DtmfEvent): void => {
      if (event.source === 'room' || event.digit !== this.spec.finishOnKey) return;
      finishKeyPressed = true;
      stop();
    };
    session.on('dtmf', onDigit);
    context.signal.addEventListener('abort', stop);
    if (context.signal.aborted) stop();
    try {
      const event = await ended;
      if (!event) {
        context.logger.error('the message recording ended with its media worker');
        return;
      }
      // A hangup also stops the flow; the session closing first says it was the hangup.
      const endedBy: RecordEnd = finishKeyPressed ? 'finishOnKey' : (END_OF[event.reason] ?? 'flowStopped');
      context.report('calls.recording.completed', { recording: recordingSummary(event), endedBy });
    } finally {
      session.off('dtmf', onDigit);
      context.signal.removeEventListener('abort', stop);
    }
  }
}
