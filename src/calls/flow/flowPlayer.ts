import type { MediaSession } from '../../media/workers/MediaSession.js';
import type { PlaybackEndedEvent } from '../../media/workers/mediaChannelTypes.js';
import { AudioUnavailable } from '../callErrors.js';
import type { PlayOptions } from './flowTypes.js';

/**
 * One flow's playbacks on its call's media session, one at a time. The worker plays one thing per
 * session and a new play replaces the one in progress, so stopping is playing 20 ms of silence;
 * the worker applies plays in the order they were sent, so a stop sent before the next flow's
 * first play can never cut that one off.
 */
export class FlowPlayer {
  /** The session of the playback in progress (or being started), until it ends. */
  private playing: MediaSession | null = null;

  async play(
    session: MediaSession,
    file: string,
    options: PlayOptions,
    signal: AbortSignal,
  ): Promise<'finished' | 'stopped'> {
    // playbackEnded may overtake play's answer: remember ends of ids not known yet.
    const ended = new Map<string, PlaybackEndedEvent['reason']>();
    let playbackId: string | undefined;
    let settle: ((reason: PlaybackEndedEvent['reason']) => void) | undefined;
    const onEnded = (event: PlaybackEndedEvent): void => {
      if (event.playbackId === playbackId) settle?.(event.reason);
      else ended.set(event.playbackId, event.reason);
    };
    const onStop = (): void => settle?.('stopped');
    let timer: NodeJS.Timeout | undefined;
    session.on('playbackEnded', onEnded);
    session.on('closed', onStop);
    signal.addEventListener('abort', onStop);
    this.playing = session;
    try {
      const started = await session.play({
        source: { kind: 'file', path: file },
        target: options.target,
        loop: options.loop,
      });
      playbackId = started.playbackId;
      const reason = await new Promise<PlaybackEndedEvent['reason']>((resolve) => {
        settle = resolve;
        const early = ended.get(started.playbackId);
        if (early) resolve(early);
        if (signal.aborted || session.closed || this.playing !== session) resolve('stopped');
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => {
            this.stop();
            resolve('stopped');
          }, options.timeoutMs);
        }
      });
      if (reason === 'failed') throw new AudioUnavailable(`the media worker failed to play ${file}`);
      return reason;
    } finally {
      clearTimeout(timer);
      session.off('playbackEnded', onEnded);
      session.off('closed', onStop);
      signal.removeEventListener('abort', onStop);
      if (this.playing === session) this.playing = null;
    }
  }

  /** Stops the playback in progress (or about to start); nothing when none is. */
  stop(): void {
    const session = this.playing;
    if (!session) return;
    this.playing = null;
    if (session.closed) return;
    session
      .play({ source: { kind: 'silence', durationMs: 20 }, target: 'sip', loop: false })
      .catch(() => undefined);
  }
}
