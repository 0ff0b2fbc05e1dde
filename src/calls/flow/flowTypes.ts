import type { Logger } from 'pino';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { RecordingFormat } from '../../recording/recordingTypes.js';
import type { RecordingJournal } from '../watchedRecording.js';
import type { AudioPrompts } from './audio/audioPrompts.js';
import type { VerbSpec } from './flowSchemas.js';

/** One verb of a call flow (jambonz style: one class per verb, run once, in order). */
export interface FlowVerb {
  readonly command: string;
  run(context: FlowContext): Promise<void>;
}

export interface PlayOptions {
  target: 'sip' | 'room' | 'both';
  loop: boolean;
  /** Stops it after this long. */
  timeoutMs?: number | undefined;
}

/** What a verb can do to its call. Every method throws FlowStopped once the flow has stopped. */
export interface FlowContext {
  readonly callId: string;
  /** Aborted when the flow is replaced or the call ends. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly audio: AudioPrompts;
  /** The app's recordingFormat, for the record verb. */
  readonly recordingFormat: RecordingFormat;
  /** Where the record verb's recordings are written down (the call service's); none when absent. */
  readonly recordings: RecordingJournal | undefined;
  /** The call's media session; a ringing inbound call is answered into its room first (as accept does). */
  answered(): Promise<MediaSession>;
  /** 180 Ringing to a ringing inbound call; false when the call is not ringing. */
  ring(): boolean;
  /** BYE to an answered call; a ringing one is refused (480, or `sipCode`). */
  hangup(sipCode?: number): void;
  /** Waits for `work`, or throws FlowStopped as soon as the flow stops. */
  wait<T>(work: Promise<T>): Promise<T>;
  sleep(ms: number): Promise<void>;
  /** Plays a decoded file (AudioPrompts) on the call; resolves when it has finished or was stopped. */
  play(session: MediaSession, file: string, options: PlayOptions): Promise<'finished' | 'stopped'>;
  /** Stops this flow's playback, if one is playing. */
  stopPlayback(): void;
  /** Dials `spec.to` into the call's room; resolves once that leg has ended (BridgeVerb). */
  bridge(spec: VerbSpec<'bridge'>): Promise<void>;
  /** REFERs the call to `to`; resolves when it failed (rejects), or waits for the call's end on success. */
  transfer(to: string): Promise<void>;
  /** Appends an event about the call to the control plane's outbox: `{call, ...fields}`. */
  emit(event: 'calls.gather', fields: Record<string, unknown>): void;
  /**
   * Appends an event even after the flow stopped: a result that outlives it, such as a message
   * recording finished by the caller hanging up.
   */
  report(event: 'calls.recording.completed', fields: Record<string, unknown>): void;
}
