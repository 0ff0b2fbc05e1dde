import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RecordingEndedEvent } from '../media/workers/mediaChannelTypes.js';
import type {
  RecordingEnd,
  RecordingListQuery,
  RecordingStore,
  StoredRecording,
} from '../store/recordingStore.js';
import type { CallService } from './callService.js';
import type { CallEventSink } from './callServiceTypes.js';
import type { RecordingJournal, StartedRecording } from './watchedRecording.js';

export interface CallRecordingsDeps {
  store: RecordingStore;
  /** The calls recorded: a recording belongs to its call's app. */
  calls: Pick<CallService, 'get' | 'find'>;
  /** The control plane's outbox: `calls.recording.deleted`, and the batches recordings commit. */
  events: CallEventSink;
  logger: Logger;
  now: () => Date;
}

export type RecordingRemoval = 'removed' | 'not_found' | 'in_progress';

/** A recording appeared, ended or was deleted: for pages that list them (the call feed). */
export interface RecordingChange {
  id: string;
  appId: string;
  callId: string;
  state: StoredRecording['state'] | 'deleted';
}

export interface CallRecordingsEvents {
  changed: [change: RecordingChange];
}

/** A file's size, or 0 when it is not there (ffmpeg wrote nothing, or it was removed). */
function sizeOnDisk(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * The recordings of calls, kept in the recordings table: written when the worker starts one,
 * completed when it ends (startWatchedRecording tells this journal), read by the recordings API,
 * and removed with their file. Bookkeeping never breaks a recording: a store that fails (closed at
 * shutdown) is logged and the recording goes on.
 */
export class CallRecordings extends EventEmitter<CallRecordingsEvents> implements RecordingJournal {
  /** Recordings being deleted now: a second delete of one waits for nothing and finds nothing. */
  private readonly removing = new Set<string>();

  constructor(private readonly deps: CallRecordingsDeps) {
    super();
    // Every open call feed (a console tab) listens.
    this.setMaxListeners(0);
  }

  started(recording: StartedRecording): void {
    const { logger } = this.deps;
    // Recordings start while their call is live, on the node carrying it.
    const call = this.deps.calls.get(recording.callId);
    if (!call) {
      logger.warn({ ...recording }, 'a recording started for a call not live here; not kept');
      return;
    }
    try {
      this.deps.events.commit([
        this.deps.store.insert({
          id: recording.recordingId,
          appId: call.appId,
          callId: call.id,
          kind: recording.kind,
          format: recording.format,
          path: recording.path,
          startedAt: this.deps.now().toISOString(),
        }),
      ]);
      this.emit('changed', {
        id: recording.recordingId,
        appId: call.appId,
        callId: call.id,
        state: 'recording',
      });
    } catch (error) {
      logger.error({ err: error, recordingId: recording.recordingId }, 'could not keep a recording');
    }
  }

  ended(recordingId: string, end: RecordingEndedEvent | null): void {
    void this.end(recordingId, end).catch((error: unknown) =>
      this.deps.logger.error({ err: error, recordingId }, 'could not record the end of a recording'),
    );
  }

  /**
   * At start-up, before any call: recordings still `recording` were cut off by a crash. They
   * become `interrupted`, with their file's size as it is now, ended when the gateway died
   * (`diedAt`, never before they started) or else now. Returns how many there were.
   */
  async interruptLeftovers(diedAt?: Date): Promise<number> {
    const now = this.deps.now().getTime();
    const leftovers = await this.deps.store.inProgress();
    this.deps.events.commit(
      leftovers.map((recording) => {
        const at = diedAt ? Math.min(now, Math.max(Date.parse(recording.startedAt), diedAt.getTime())) : now;
        return this.deps.store.end(recording.id, {
          state: 'interrupted',
          durationMs: null,
          bytes: sizeOnDisk(recording.path),
          endedAt: new Date(at).toISOString(),
        });
      }),
    );
    return leftovers.length;
  }

  get(id: string): Promise<StoredRecording | undefined> {
    return this.deps.store.get(id);
  }

  list(query: RecordingListQuery): Promise<StoredRecording[]> {
    return this.deps.store.list(query);
  }

  /**
   * Deletes a recording's file, then its row, with a `calls.recording.deleted` event about its
   * call committed with the row. One still being written is refused (in_progress). A file
   * already gone is no error.
   */
  async remove(id: string): Promise<RecordingRemoval> {
    if (this.removing.has(id)) return 'not_found';
    this.removing.add(id);
    try {
      const recording = await this.deps.store.get(id);
      if (!recording) return 'not_found';
      if (recording.state === 'recording') return 'in_progress';
      await unlink(recording.path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      const call = await this.deps.calls.find(recording.callId);
      const batch = [this.deps.store.remove(id)];
      if (call) {
        batch.push(
          this.deps.events.append({
            event: 'calls.recording.deleted',
            callId: call.id,
            data: { call, recording: deletedSummary(recording) },
          }),
        );
      }
      this.deps.events.commit(batch);
      this.deps.logger.info({ recordingId: id, callId: recording.callId }, 'recording deleted');
      this.emit('changed', { id, appId: recording.appId, callId: recording.callId, state: 'deleted' });
      return 'removed';
    } finally {
      this.removing.delete(id);
    }
  }

  private async end(recordingId: string, end: RecordingEndedEvent | null): Promise<void> {
    const endedAt = this.deps.now().toISOString();
    const stored = await this.deps.store.get(recordingId);
    if (stored?.state !== 'recording') return;
    const ending: RecordingEnd = end
      ? {
          state: end.reason === 'error' ? 'failed' : 'completed',
          durationMs: end.durationMs,
          bytes: end.bytes,
          endedAt,
        }
      : // Its worker died: ffmpeg finishes the file on its own, and nobody says how long it is.
        { state: 'interrupted', durationMs: null, bytes: sizeOnDisk(stored.path), endedAt };
    this.deps.events.commit([this.deps.store.end(recordingId, ending)]);
    this.emit('changed', {
      id: recordingId,
      appId: stored.appId,
      callId: stored.callId,
      state: ending.state,
    });
  }
}

/** What the control plane is told of a deleted recording (no path: the file is gone). */
function deletedSummary(recording: StoredRecording): Record<string, unknown> {
  return {
    id: recording.id,
    kind: recording.kind,
    format: recording.format,
    durationMs: recording.durationMs,
    bytes: recording.bytes,
    startedAt: recording.startedAt,
    endedAt: recording.endedAt,
  };
}
