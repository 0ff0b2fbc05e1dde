import type { MediaSession } from '../media/workers/MediaSession.js';

/** The tone that tells a caller to speak (voicemail, record verb): 1 kHz for half a second. */
export const RECORD_BEEP = { kind: 'tone', frequencyHz: 1000, durationMs: 500 } as const;

/** Plays to the caller and resolves when it ends or the session closes. */
export async function playToEnd(
  session: MediaSession,
  source: Parameters<MediaSession['play']>[0]['source'],
): Promise<void> {
  if (session.closed) return;
  let playbackId: string | undefined;
  const endedIds = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      session.off('playbackEnded', onEnded);
      session.off('closed', done);
      resolve();
    };
    const onEnded = (event: { playbackId: string }): void => {
      if (event.playbackId === playbackId) done();
      else endedIds.add(event.playbackId);
    };
    session.on('playbackEnded', onEnded);
    session.on('closed', done);
    session.play({ source, target: 'sip', loop: false }).then(
      (started) => {
        playbackId = started.playbackId;
        if (endedIds.has(started.playbackId)) done();
      },
      (error: unknown) => {
        session.off('playbackEnded', onEnded);
        session.off('closed', done);
        if (session.closed) resolve();
        else reject(error);
      },
    );
  });
}
