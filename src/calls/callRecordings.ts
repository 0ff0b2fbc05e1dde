import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RecordingEndedEvent } from '../media/workers/mediaChannelTypes.js';
import type { RecordingListQuery, RecordingStore, StoredRecording } from '../store/recordingStore.js';
import type { CallEventSink } from './callServiceTypes.js';
import type { CallStore } from './callStore.js';
import type { RecordingJournal, StartedRecording } from './watchedRecording.js';

export interface CallRecordingsDeps {
  store: RecordingStore;
  /** The calls recorded: a recording belongs to its call's app. */
  calls: Pick<CallStore, 'get'>;
  /** The control plane's outbox: `calls.recording.deleted`. */
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
  constructor(private readonly deps: CallRecordingsDeps) {
    super();
    // Every open call feed (a console tab) listens.
    this.setMaxListeners(0);
  }

  started(recording: StartedRecording): void {
    const { logger } = this.deps;
    const call = this.deps.calls.get(recording.callId);
    if (!call) {
      logger.warn({ ...recording }, 'a recording started for a call not in storage; not kept');
      return;
    }
    try {
      this.deps.store.insert({
        id: recording.recordingId,
        appId: call.appId,
        callId: call.id,
        kind: recording.kind,
        format: recording.format,
        path: recording.path,
        startedAt: this.deps.now().toISOString(),
      });
      this.announce(recording.recordingId);
    } catch (error) {
      logger.error({ err: error, recordingId: recording.recordingId }, 'could not keep a recording');
    }
  }

  ended(recordingId: string, end: RecordingEndedEvent | null): void {
    const endedAt = this.deps.now().toISOString();
    try {
      if (end) {
        this.deps.store.end(recordingId, {
          state: end.reason === 'error' ? 'failed' : 'completed',
          durationMs: end.durationMs,
          bytes: end.bytes,
          endedAt,
        });
        this.announce(recordingId);
        return;
      }
      // Its worker died: ffmpeg finishes the file on its own, and nobody says how long it is.
      const stored = this.deps.store.get(recordingId);
      if (!stored) return;
      this.deps.store.end(recordingId, {
        state: 'interrupted',
        durationMs: null,
        bytes: sizeOnDisk(stored.path),
        endedAt,
      });
      this.announce(recordingId);
    } catch (error) {
      this.deps.logger.error({ err: error, recordingId }, 'could not record the end of a recording');
    }
  }

  /**
   * At start-up, before any call: recordings still `recording` were cut off by a crash. They
   * become `interrupted`, with their file's size as it is now, ended when the gateway died
   * (`diedAt`, never before they started) or else now. Returns how many there were.
   */
  interruptLeftovers(diedAt?: Date): number {
    const now = this.deps.now().getTime();
    const leftovers = this.deps.store.inProgress();
    for (const recording of leftovers) {
      const at = diedAt ? Math.min(now, Math.max(Date.parse(recording.startedAt), diedAt.getTime())) : now;
      this.deps.store.end(recording.id, {
        state: 'interrupted',
        durationMs: null,
        bytes: sizeOnDisk(recording.path),
        endedAt: new Date(at).toISOString(),
      });
    }
    return leftovers.length;
  }

  get(id: string): StoredRecording | undefined {
    return this.deps.store.get(id);
  }

  list(query: RecordingListQuery): StoredRecording[] {
    return this.deps.store.list(query);
  }

  /**
   * Deletes a recording's file, then its row, with a `calls.recording.deleted` event about its
   * call in the same transaction as the row. One still being written is refused (in_progress).
   * A file already gone is no error.
   */
  async remove(id: string): Promise<RecordingRemoval> {
    const recording = this.deps.store.get(id);
    if (!recording) return 'not_found';
    if (recording.state === 'recording') return 'in_progress';
    await unlink(recording.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    const removed = this.deps.store.transaction(() => {
      if (!this.deps.store.remove(id)) return false;
      const call = this.deps.calls.get(recording.callId);
      if (call) {
        this.deps.events.append({
          event: 'calls.recording.deleted',
          callId: call.id,
          data: { call, recording: deletedSummary(recording) },
        });
      }
      return true;
    });
    if (!removed) return 'not_found';
    this.deps.logger.info({ recordingId: id, callId: recording.callId }, 'recording deleted');
    this.emit('changed', { id, appId: recording.appId, callId: recording.callId, state: 'deleted' });
    return 'removed';
  }

  private announce(id: string): void {
    const recording = this.deps.store.get(id);
    if (recording)
      this.emit('changed', { id, appId: recording.appId, callId: recording.callId, state: recording.state });
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
