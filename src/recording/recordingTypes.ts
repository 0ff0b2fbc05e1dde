/** Containers a call can be recorded in (calling settings' recordingFormat). */
export type RecordingFormat = 'ogg' | 'webm' | 'mp4';

export const RECORDING_FORMATS: readonly RecordingFormat[] = ['ogg', 'webm', 'mp4'];

/** Why a recording ended. */
export type RecordingEndReason =
  /** stopRecording. */
  | 'stopped'
  /** It reached its maxDurationMs. */
  | 'max_duration'
  /** Its call's media session closed, whichever way. */
  | 'session_closed'
  /** ffmpeg failed (exited early, could not keep up, did not finish); the file may be partial. */
  | 'error';

/** A finished recording: what the file holds. */
export interface RecordingSummary {
  /** Absolute path of the file. */
  path: string;
  format: RecordingFormat;
  /** Audio written, silence for gaps included: the wall time the recording ran. */
  durationMs: number;
  /** Size of the file once ffmpeg finished (0 when it wrote nothing). */
  bytes: number;
}

export interface RecordingOutcome extends RecordingSummary {
  reason: RecordingEndReason;
  /** What went wrong, for reason 'error'; null otherwise. */
  message: string | null;
}

export interface RecorderOptions {
  /** The file to write; its folder must exist. */
  path: string;
  format: RecordingFormat;
  /** The recording ends by itself (reason max_duration) once this much audio is written. */
  maxDurationMs?: number | null;
  /** Default: `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** Told once, however the recording ends, before stop() resolves. */
  onEnded?: (outcome: RecordingOutcome) => void;
  /** Milliseconds on the clock that times frames (performance.now() by default, as FrameClock's). */
  now?: () => number;
}
