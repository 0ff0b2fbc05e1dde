import type { Logger } from 'pino';
import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { RecordingFormat } from '../../recording/recordingTypes.js';
import { BridgedCall } from '../bridgedCall.js';
import { AnswerCanceled, AnswerFailed, answerError } from '../callErrors.js';
import type { CallService } from '../callService.js';
import type { Call } from '../callTypes.js';
import { reportDtmf } from '../dtmfReporter.js';
import { inboundSessionRequest, keyingOf, recordLegMedia, type TrunkEncryption } from '../legMedia.js';
import type { IncomingLeg } from '../legs/callLeg.js';
import type { LiveCall } from '../liveCall.js';
import { playToEnd, RECORD_BEEP } from '../playToEnd.js';
import { recordingSummary, startWatchedRecording } from '../watchedRecording.js';
import type { MediaSessions } from './inboundAnswer.js';

/** Said when the app has no greeting of its own, or its greeting cannot be had. */
export const DEFAULT_GREETING =
  'The person you are calling is not available. Please leave a message after the tone.';
const GREETING_VOICE = 'en-us';

/** Where greetings come from: the call flows' decoded, cached audio. */
export interface GreetingAudio {
  forLocation(location: string): Promise<string>;
  forSpeech(request: { text: string; voice: string }): Promise<string>;
}

export interface VoicemailDeps {
  calls: CallService;
  media: MediaSessions;
  audio: GreetingAudio;
  logger: Logger;
  /** Each trunk's media encryption policy; plain RTP for every call when absent. */
  trunkMedia?: TrunkEncryption;
}

/** The app's voicemail settings (its calling configuration). */
export interface VoicemailSettings {
  greetingUrl: string | null;
  maxDurationSeconds: number;
  format: RecordingFormat;
}

/**
 * Voicemail for an inbound call nobody takes: it is answered (no room: nobody is there), its status
 * becomes `voicemail`, the caller hears the app's greeting (or a spoken default) and a tone, and
 * their message is recorded in the app's recording format for at most voicemailMaxDuration. The
 * call ends when the caller hangs up (caller_hangup) or the time is up (max_duration, BYE); either
 * way the recording ends with the session and a `calls.voicemail.received` event carries the
 * file. A caller who hangs up during the greeting leaves no message and no event.
 */
export class Voicemail {
  constructor(private readonly deps: VoicemailDeps) {}

  /** Answers into voicemail; resolves once the call is answered, the message is taken after. */
  async take(
    live: LiveCall,
    call: Call,
    leg: IncomingLeg,
    settings: VoicemailSettings,
    canceled: () => boolean,
  ): Promise<void> {
    let session: MediaSession | undefined;
    let bridged = false;
    try {
      const created = await this.deps.media.createSession(
        inboundSessionRequest(call, leg.offer, this.deps.trunkMedia),
      );
      recordLegMedia(this.deps.calls, call.id, keyingOf(created.media));
      session = created.session;
      reportDtmf(session, this.deps.calls, call.id);
      if (canceled()) throw new AnswerCanceled(`call ${call.id} was canceled while answering`);
      const answeredLeg = await leg.answer(created.localSdp);
      const answered = this.deps.calls.transition(call.id, { to: 'voicemail' });
      if (!answered.ok) {
        void answeredLeg.hangup().catch(() => undefined);
        throw new AnswerFailed(500, answered.reason);
      }
      const bridge = new BridgedCall(live, answeredLeg, session, {
        calls: this.deps.calls,
        logger: this.deps.logger,
      });
      bridge.start();
      bridged = true;
      void this.leaveMessage(call, session, bridge, settings).catch((error: unknown) => {
        this.deps.logger.error({ callId: call.id, err: error }, 'voicemail failed');
        bridge.hangup('media_error');
      });
    } catch (error) {
      if (session && !session.closed && !bridged) void session.close('normal');
      throw answerError(call.id, error, this.deps.logger);
    }
  }

  private async leaveMessage(
    call: Call,
    session: MediaSession,
    bridge: BridgedCall,
    settings: VoicemailSettings,
  ): Promise<void> {
    const greeting = await this.greeting(call.id, settings.greetingUrl);
    if (greeting) await playToEnd(session, { kind: 'file', path: greeting });
    await playToEnd(session, RECORD_BEEP);
    if (session.closed) return;
    const { ended } = await startWatchedRecording(
      session,
      { format: settings.format, tracks: 'caller', maxDurationMs: settings.maxDurationSeconds * 1000 },
      { callId: call.id, kind: 'voicemail', journal: this.deps.calls.recordings },
    );
    const event = await ended;
    if (!event) {
      this.deps.logger.error({ callId: call.id }, 'voicemail recording ended with its media worker');
      return;
    }
    if (event.reason === 'error') {
      this.deps.logger.error({ callId: call.id, message: event.message }, 'voicemail recording failed');
    }
    if (event.bytes > 0) {
      this.deps.calls.appendEvent(call.id, 'calls.voicemail.received', {
        recording: recordingSummary(event),
      });
    }
    if (event.reason === 'max_duration') bridge.hangup('max_duration');
  }

  /** The app's greeting, else the spoken default; undefined only if neither can be had. */
  private async greeting(callId: string, url: string | null): Promise<string | undefined> {
    if (url) {
      try {
        return await this.deps.audio.forLocation(url);
      } catch (error) {
        this.deps.logger.warn({ callId, err: error }, 'voicemail greeting unavailable; saying the default');
      }
    }
    try {
      return await this.deps.audio.forSpeech({ text: DEFAULT_GREETING, voice: GREETING_VOICE });
    } catch (error) {
      this.deps.logger.warn({ callId, err: error }, 'default voicemail greeting unavailable');
      return undefined;
    }
  }
}
