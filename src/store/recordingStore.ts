import type { Database } from './database.js';

/** What a recording is of: a whole call (autoRecordEnabled), a voicemail message, a record verb's message. */
export const RECORDING_KINDS = ['call', 'voicemail', 'flow'] as const;
export type RecordingKind = (typeof RECORDING_KINDS)[number];

/**
 * recording: ffmpeg is writing it. completed: it ended and the file is finished. failed: ffmpeg
 * failed (the file may be partial). interrupted: its media worker or the gateway died while it
 * ran (ffmpeg finishes the file on its own, but nobody reported how long it is).
 */
export const RECORDING_STATES = ['recording', 'completed', 'failed', 'interrupted'] as const;
export type RecordingState = (typeof RECORDING_STATES)[number];

/** A recording as stored. `path` is the file, absolute: for the gateway's own use, never for clients. */
export interface StoredRecording {
  id: string;
  appId: string;
  callId: string;
  kind: RecordingKind;
  /** The container (calling settings' recordingFormat: mp4, ogg, webm). */
  format: string;
  path: string;
  state: RecordingState;
  /** Audio written; null while recording, and for an interrupted one (not known). */
  durationMs: number | null;
  /** Size of the file once it ended; null while recording. */
  bytes: number | null;
  startedAt: string;
  endedAt: string | null;
}

export type NewRecording = Pick<StoredRecording, 'id' | 'appId' | 'callId' | 'kind' | 'format' | 'path'> & {
  startedAt: string;
};

export interface RecordingEnd {
  state: Exclude<RecordingState, 'recording'>;
  durationMs: number | null;
  bytes: number;
  endedAt: string;
}

export interface RecordingListQuery {
  /** One app's recordings; every app's when absent (admin keys). */
  appId?: string;
  callId?: string;
  kind?: RecordingKind;
  /** Recordings after this one in the listing's order (the last of the previous page). */
  after?: Pick<StoredRecording, 'id' | 'startedAt'>;
  limit: number;
}

interface Row {
  id: string;
  app_id: string;
  call_id: string;
  kind: string;
  format: string;
  path: string;
  state: string;
  duration_ms: number | null;
  bytes: number | null;
  started_at: string;
  ended_at: string | null;
}

function fromRow(row: Row): StoredRecording {
  return {
    id: row.id,
    appId: row.app_id,
    callId: row.call_id,
    kind: row.kind as RecordingKind,
    format: row.format,
    path: row.path,
    state: row.state as RecordingState,
    durationMs: row.duration_ms,
    bytes: row.bytes,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** The `recordings` table: one row per recording, written at its start, completed at its end. */
export class RecordingStore {
  private readonly insertStmt;
  private readonly endStmt;
  private readonly getStmt;
  private readonly inProgressStmt;
  private readonly removeStmt;

  constructor(private readonly db: Database) {
    this.insertStmt = db.sql.prepare(`
      INSERT INTO recordings (id, app_id, call_id, kind, format, path, state, started_at)
      VALUES (@id, @appId, @callId, @kind, @format, @path, 'recording', @startedAt)`);
    this.endStmt = db.sql.prepare(`
      UPDATE recordings SET state = @state, duration_ms = @durationMs, bytes = @bytes, ended_at = @endedAt
      WHERE id = @id AND state = 'recording'`);
    this.getStmt = db.sql.prepare<[string], Row>('SELECT * FROM recordings WHERE id = ?');
    this.inProgressStmt = db.sql.prepare<[], Row>(
      "SELECT * FROM recordings WHERE state = 'recording' ORDER BY started_at",
    );
    this.removeStmt = db.sql.prepare<[string]>('DELETE FROM recordings WHERE id = ?');
  }

  insert(recording: NewRecording): void {
    this.insertStmt.run(recording);
  }

  /** Ends a recording still in progress; false when there is none by that id (or it ended already). */
  end(id: string, end: RecordingEnd): boolean {
    return this.endStmt.run({ id, ...end }).changes > 0;
  }

  get(id: string): StoredRecording | undefined {
    const row = this.getStmt.get(id);
    return row ? fromRow(row) : undefined;
  }

  /** Recordings still being written, as storage has them (at start-up: those a crash cut off). */
  inProgress(): StoredRecording[] {
    return this.inProgressStmt.all().map(fromRow);
  }

  /** Newest first (started_at, then id), filtered; `limit` rows at most. */
  list(query: RecordingListQuery): StoredRecording[] {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: query.limit };
    if (query.appId !== undefined) {
      where.push('app_id = @appId');
      params.appId = query.appId;
    }
    if (query.callId !== undefined) {
      where.push('call_id = @callId');
      params.callId = query.callId;
    }
    if (query.kind !== undefined) {
      where.push('kind = @kind');
      params.kind = query.kind;
    }
    if (query.after) {
      where.push('(started_at < @afterAt OR (started_at = @afterAt AND id < @afterId))');
      params.afterAt = query.after.startedAt;
      params.afterId = query.after.id;
    }
    const sql = `SELECT * FROM recordings ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_at DESC, id DESC LIMIT @limit`;
    return this.db.sql.prepare<Record<string, string | number>, Row>(sql).all(params).map(fromRow);
  }

  /** Forgets a recording; false when there was none. */
  remove(id: string): boolean {
    return this.removeStmt.run(id).changes > 0;
  }

  /** Runs `work` in one transaction (nested calls join the outer one). */
  transaction<T>(work: () => T): T {
    return this.db.sql.transaction(work)();
  }
}
