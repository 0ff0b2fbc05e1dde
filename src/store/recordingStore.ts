import { LOCAL_NODE, OF_NODE, ofNode } from './localNode.js';
import { type SqlStatement, type SqlStore, type SqlValue, statement } from './sql/sqlTypes.js';

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

/**
 * The `recordings` table: one row per recording, written at its start, completed at its end.
 * Changes are statements for the caller to commit (with an event, where there is one).
 */
export class RecordingStore {
  /** `nodeId`: the node whose recordings a restart finds cut off (another node's are its own). */
  constructor(
    private readonly db: SqlStore,
    private readonly nodeId: string = LOCAL_NODE,
  ) {}

  insert(recording: NewRecording): SqlStatement {
    return statement(
      `INSERT INTO recordings (id, app_id, call_id, kind, format, path, state, started_at, node_id)
       VALUES (?, ?, ?, ?, ?, ?, 'recording', ?, ?)`,
      recording.id,
      recording.appId,
      recording.callId,
      recording.kind,
      recording.format,
      recording.path,
      recording.startedAt,
      this.nodeId,
    );
  }

  /** Ends a recording still in progress (one that ended already stays as it ended). */
  end(id: string, end: RecordingEnd): SqlStatement {
    return statement(
      `UPDATE recordings SET state = ?, duration_ms = ?, bytes = ?, ended_at = ?
       WHERE id = ? AND state = 'recording'`,
      end.state,
      end.durationMs,
      end.bytes,
      end.endedAt,
      id,
    );
  }

  /** Forgets a recording. */
  remove(id: string): SqlStatement {
    return statement('DELETE FROM recordings WHERE id = ?', id);
  }

  async get(id: string): Promise<StoredRecording | undefined> {
    const row = await this.db.get<Row>('SELECT * FROM recordings WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  /** A node's recordings still being written, as storage has them (at start-up: those a crash cut off). */
  async inProgress(nodeId: string = this.nodeId): Promise<StoredRecording[]> {
    const rows = await this.db.all<Row>(
      `SELECT * FROM recordings WHERE state = 'recording' AND ${OF_NODE} ORDER BY started_at`,
      ofNode(nodeId),
    );
    return rows.map(fromRow);
  }

  /** Newest first (started_at, then id), filtered; `limit` rows at most. */
  async list(query: RecordingListQuery): Promise<StoredRecording[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.appId !== undefined) {
      where.push('app_id = ?');
      params.push(query.appId);
    }
    if (query.callId !== undefined) {
      where.push('call_id = ?');
      params.push(query.callId);
    }
    if (query.kind !== undefined) {
      where.push('kind = ?');
      params.push(query.kind);
    }
    if (query.after) {
      where.push('(started_at < ? OR (started_at = ? AND id < ?))');
      params.push(query.after.startedAt, query.after.startedAt, query.after.id);
    }
    const sql = `SELECT * FROM recordings ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_at DESC, id DESC LIMIT ?`;
    const rows = await this.db.all<Row>(sql, [...params, query.limit]);
    return rows.map(fromRow);
  }
}
