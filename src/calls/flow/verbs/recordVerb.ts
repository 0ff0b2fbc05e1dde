import type { DtmfEvent, RecordingEndedEvent } from '../../../media/workers/mediaChannelTypes.js';
import { playToEnd } from '../../playToEnd.js';
import type { VerbSpec } from '../flowSchemas.js';
import type { FlowContext, FlowVerb } from '../flowTypes.js';

const BEEP = { kind: 'tone', frequencyHz: 1000, durationMs: 500 } as const;

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
    if (this.spec.beep) await context.wait(playToEnd(session, BEEP));
    let recordingId: string | undefined;
    let endedBy: RecordEnd | undefined;
    const early: RecordingEndedEvent[] = [];
    let settle: (event: RecordingEndedEvent) => void = () => undefined;
    const finished = new Promise<RecordingEndedEvent>((resolve) => {
      settle = resolve;
    });
    const stop = (why: RecordEnd): void => {
      endedBy ??= why;
      if (recordingId && !session.closed) void session.stopRecording(recordingId).catch(() => undefined);
    };
    const onEnded = (event: RecordingEndedEvent): void => {
      if (recordingId === undefined) early.push(event);
      else if (event.recordingId === recordingId) settle(event);
    };
    const onDigit = (event: DtmfEvent): void => {
      if (event.source !== 'room' && event.digit === this.spec.finishOnKey) stop('finishOnKey');
    };
    const onAbort = (): void => stop('flowStopped');
    session.on('recordingEnded', onEnded);
    try {
      const started = await session.startRecording({
        format: context.recordingFormat,
        tracks: this.spec.tracks,
        maxDurationMs: this.spec.maxLengthSeconds * 1000,
      });
      recordingId = started.recordingId;
      const already = early.find((event) => event.recordingId === started.recordingId);
      if (already) settle(already);
      session.on('dtmf', onDigit);
      context.signal.addEventListener('abort', onAbort);
      if (context.signal.aborted) onAbort();
      const event = await finished;
      // A hangup also stops the flow; the session closing first says it was the hangup.
      const by: RecordEnd =
        endedBy === 'finishOnKey' ? endedBy : (END_OF[event.reason] ?? endedBy ?? 'flowStopped');
      context.report('calls.recording.completed', {
        recording: {
          id: event.recordingId,
          path: event.path,
          format: event.format,
          durationMs: event.durationMs,
          bytes: event.bytes,
          reason: event.reason,
        },
        endedBy: by,
      });
    } finally {
      session.off('recordingEnded', onEnded);
      session.off('dtmf', onDigit);
      context.signal.removeEventListener('abort', onAbort);
    }
  }
}
