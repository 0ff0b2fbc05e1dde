import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { RecordingFormat } from '../../recording/recordingTypes.js';
import { FlowStopped } from '../callErrors.js';
import type { RecordingJournal } from '../watchedRecording.js';
import type { AudioPrompts } from './audio/audioPrompts.js';
import { FlowPlayer } from './flowPlayer.js';
import type { VerbSpec } from './flowSchemas.js';
import type { FlowContext, FlowVerb } from './flowTypes.js';

/** The call-side operations a flow needs (CallFlows provides them). */
export interface CallLeg {
  answered(callId: string): Promise<MediaSession>;
  ring(callId: string): boolean;
  hangup(callId: string, sipCode?: number): void;
  bridge(callId: string, spec: VerbSpec<'bridge'>, signal: AbortSignal): Promise<void>;
  transfer(callId: string, to: string, signal: AbortSignal): Promise<void>;
  emit(callId: string, event: string, fields: Record<string, unknown>): void;
}

export interface FlowRunnerDeps {
  leg: CallLeg;
  audio: AudioPrompts;
  logger: Logger;
  /** The app's recordingFormat (default ogg). */
  recordingFormat?: RecordingFormat;
  /** Where record verbs' recordings are written down. */
  recordings?: RecordingJournal | undefined;
}

/**
 * Runs one call flow: its verbs in order, each to its end. A verb that fails (audio that cannot
 * be fetched or decoded, a refused file) is logged and skipped, and the flow goes on with the next.
 * `stop` (flow replaced, call ended) aborts the verb in progress at once and stops its playback;
 * nothing of the flow runs after it.
 */
export class FlowRunner {
  private readonly controller = new AbortController();
  private readonly player = new FlowPlayer();
  private readonly context: FlowContext;

  constructor(
    readonly callId: string,
    private readonly verbs: readonly FlowVerb[],
    private readonly deps: FlowRunnerDeps,
  ) {
    const { signal } = this.controller;
    const { leg } = deps;
    const running = (): void => {
      if (signal.aborted) throw new FlowStopped('the flow stopped');
    };
    const wait = <T>(work: Promise<T>): Promise<T> => {
      running();
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(new FlowStopped('the flow stopped'));
        signal.addEventListener('abort', onAbort, { once: true });
        work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    };
    this.context = {
      callId,
      signal,
      logger: deps.logger,
      audio: deps.audio,
      recordingFormat: deps.recordingFormat ?? 'ogg',
      recordings: deps.recordings,
      answered: () => wait(leg.answered(callId)),
      ring: () => {
        running();
        return leg.ring(callId);
      },
      hangup: (sipCode) => {
        running();
        leg.hangup(callId, sipCode);
      },
      wait,
      sleep: (ms) => wait(sleep(ms, undefined, { signal }).catch(() => undefined)),
      play: async (session, file, options) => {
        running();
        const outcome = await this.player.play(session, file, options, signal);
        running();
        return outcome;
      },
      stopPlayback: () => this.player.stop(),
      bridge: (spec) => wait(leg.bridge(callId, spec, signal)),
      transfer: (to) => wait(leg.transfer(callId, to, signal)),
      emit: (event, fields) => {
        running();
        leg.emit(callId, event, fields);
      },
      report: (event, fields) => leg.emit(callId, event, fields),
    };
  }

  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** Runs the verbs; resolves when the last has run or the flow stopped. Never rejects. */
  async run(): Promise<void> {
    for (const [index, verb] of this.verbs.entries()) {
      if (this.stopped) return;
      try {
        await verb.run(this.context);
      } catch (error) {
        if (this.stopped || error instanceof FlowStopped) return;
        this.deps.logger.warn(
          { callId: this.callId, verb: index, command: verb.command, err: error },
          `call flow verb ${index} (${verb.command}) failed; going on with the next`,
        );
      }
    }
    this.deps.logger.info({ callId: this.callId, verbs: this.verbs.length }, 'call flow done');
  }

  stop(why: string): void {
    if (this.stopped) return;
    this.controller.abort();
    this.player.stop();
    this.deps.logger.info({ callId: this.callId, why }, 'call flow stopped');
  }
}
