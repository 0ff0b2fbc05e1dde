import type { MediaKeying } from '../media/srtp/srtpTypes.js';
import type { Database } from '../store/database.js';
import type {
  Call,
  CallChannel,
  CallDirection,
  CallMedia,
  CallQuality,
  CallStatus,
  EndReason,
} from './callTypes.js';

interface Row {
  id: string;
  app_id: string;
  direction: string;
  status: string;
  from_address: string;
  to_address: string;
  from_channel: string;
  to_channel: string;
  end_reason: string | null;
  sip_status: number | null;
  sip_reason: string | null;
  metadata: string;
  livekit_room_name: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  created_at: string;
  sip_call_id: string | null;
  answered_by: string | null;
  voicemail_at: string | null;
  media_encryption: string | null;
  quality: string | null;
}

/** What the call log needs beyond the Call object. */
export interface CallDetails {
  sipCallId: string | null;
  /** Identity of the first participant (not the gateway's own `sip_` one) who joined the room. */
  answeredBy: string | null;
  /** Whether the call went to voicemail. */
  voicemail: boolean;
}

function durationSeconds(answeredAt: string | null, endedAt: string | null): number {
  if (!answeredAt || !endedAt) return 0;
  return Math.max(0, Math.ceil((Date.parse(endedAt) - Date.parse(answeredAt)) / 1000));
}

function fromRow(row: Row): Call {
  return {
    id: row.id,
    appId: row.app_id,
    direction: row.direction as CallDirection,
    status: row.status as CallStatus,
    fromAddress: row.from_address,
    toAddress: row.to_address,
    fromChannel: row.from_channel as CallChannel,
    toChannel: row.to_channel as CallChannel,
    duration: durationSeconds(row.answered_at, row.ended_at),
    endReason: row.end_reason as EndReason | null,
    sipStatus: row.sip_status,
    sipReason: row.sip_reason,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    livekitRoomName: row.livekit_room_name,
    media: row.media_encryption === null ? null : { encryption: row.media_encryption as MediaKeying },
    quality: row.quality === null ? null : (JSON.parse(row.quality) as CallQuality),
    // Live only: CallService adds who is in the room to a call it reads while the call lives.
    participants: [],
    startedAt: row.started_at,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    createdAt: row.created_at,
  };
}

export interface CallListQuery {
  appId?: string;
  status?: CallStatus;
  direction?: CallDirection;
  /** Either side of the call on this channel. */
  channel?: CallChannel;
  /** Created at or after / before these ISO times. */
  createdFrom?: string;
  createdBefore?: string;
  /** Calls created before this one (the cursor is the last id of the previous page). */
  startingAfter?: Call;
  limit: number;
}

/** Calls in SQLite. Synchronous, so a caller's transaction covers a read-check-write. */
export class CallStore {
  private readonly insertStmt;
  private readonly selectStmt;
  private readonly updateStmt;
  private readonly liveCountStmt;
  private readonly liveIdsStmt;
  private readonly liveByStatusStmt;
  private readonly roomStmt;
  private readonly mediaStmt;
  private readonly metadataStmt;
  private readonly qualityStmt;
  private readonly sipCallIdStmt;
  private readonly answeredByStmt;
  private readonly voicemailStmt;

  constructor(private readonly db: Database) {
    this.insertStmt = db.sql.prepare(`
      INSERT INTO calls (id, app_id, direction, status, from_address, to_address, from_channel, to_channel,
        metadata, livekit_room_name, started_at, created_at, updated_at, sip_call_id)
      VALUES (@id, @appId, @direction, @status, @fromAddress, @toAddress, @fromChannel, @toChannel,
        @metadata, @livekitRoomName, @startedAt, @createdAt, @createdAt, @sipCallId)`);
    this.selectStmt = db.sql.prepare<[string], Row>('SELECT * FROM calls WHERE id = ?');
    this.updateStmt = db.sql.prepare(`
      UPDATE calls SET status = @status, end_reason = @endReason, sip_status = @sipStatus, sip_reason = @sipReason,
        answered_at = @answeredAt, ended_at = @endedAt, updated_at = @updatedAt
      WHERE id = @id`);
    this.liveCountStmt = db.sql.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM calls WHERE app_id = ? AND ended_at IS NULL',
    );
    this.liveIdsStmt = db.sql.prepare<[], { id: string }>('SELECT id FROM calls WHERE ended_at IS NULL');
    this.liveByStatusStmt = db.sql.prepare<[], { direction: string; status: string; count: number }>(
      'SELECT direction, status, COUNT(*) AS count FROM calls WHERE ended_at IS NULL GROUP BY direction, status',
    );
    this.roomStmt = db.sql.prepare('UPDATE calls SET livekit_room_name = ?, updated_at = ? WHERE id = ?');
    this.mediaStmt = db.sql.prepare('UPDATE calls SET media_encryption = ?, updated_at = ? WHERE id = ?');
    this.metadataStmt = db.sql.prepare('UPDATE calls SET metadata = ?, updated_at = ? WHERE id = ?');
    this.qualityStmt = db.sql.prepare('UPDATE calls SET quality = ?, updated_at = ? WHERE id = ?');
    this.sipCallIdStmt = db.sql.prepare('UPDATE calls SET sip_call_id = ?, updated_at = ? WHERE id = ?');
    // Only the first one counts: whoever took the call, not whoever joined later.
    this.answeredByStmt = db.sql.prepare(
      'UPDATE calls SET answered_by = ?, updated_at = ? WHERE id = ? AND answered_by IS NULL',
    );
    this.voicemailStmt = db.sql.prepare(
      'UPDATE calls SET voicemail_at = ? WHERE id = ? AND voicemail_at IS NULL',
    );
  }

  insert(call: Call, sipCallId: string | null = null): void {
    this.insertStmt.run({ ...call, metadata: JSON.stringify(call.metadata), sipCallId });
  }

  details(id: string): CallDetails | undefined {
    const row = this.selectStmt.get(id);
    return row
      ? { sipCallId: row.sip_call_id, answeredBy: row.answered_by, voicemail: row.voicemail_at !== null }
      : undefined;
  }

  setSipCallId(id: string, sipCallId: string, updatedAt: string): void {
    this.sipCallIdStmt.run(sipCallId, updatedAt, id);
  }

  /** Records who answered; true if this was the first participant (the call had none yet). */
  setAnsweredBy(id: string, identity: string, updatedAt: string): boolean {
    return this.answeredByStmt.run(identity, updatedAt, id).changes > 0;
  }

  markVoicemail(id: string, at: string): void {
    this.voicemailStmt.run(at, id);
  }

  get(id: string): Call | undefined {
    const row = this.selectStmt.get(id);
    return row ? fromRow(row) : undefined;
  }

  saveStatus(call: Call, updatedAt: string): void {
    this.updateStmt.run({
      id: call.id,
      status: call.status,
      endReason: call.endReason,
      sipStatus: call.sipStatus,
      sipReason: call.sipReason,
      answeredAt: call.answeredAt,
      endedAt: call.endedAt,
      updatedAt,
    });
  }

  setRoom(id: string, roomName: string, updatedAt: string): void {
    this.roomStmt.run(roomName, updatedAt, id);
  }

  setMedia(id: string, media: CallMedia, updatedAt: string): void {
    this.mediaStmt.run(media.encryption, updatedAt, id);
  }

  setMetadata(id: string, metadata: Record<string, unknown>, updatedAt: string): void {
    this.metadataStmt.run(JSON.stringify(metadata), updatedAt, id);
  }

  /** Keeps the call's leg quality (its final figures, once the call ended). */
  setQuality(id: string, quality: CallQuality, updatedAt: string): void {
    this.qualityStmt.run(JSON.stringify(quality), updatedAt, id);
  }

  /** Calls of an app that have not ended, both directions: what maxConcurrentCalls counts. */
  liveCount(appId: string): number {
    return this.liveCountStmt.get(appId)?.n ?? 0;
  }

  /** Live calls counted by direction and status (for metrics). */
  liveByStatus(): { direction: string; status: string; count: number }[] {
    return this.liveByStatusStmt.all();
  }

  liveIds(): string[] {
    return this.liveIdsStmt.all().map((row) => row.id);
  }

  /** Newest first; `startingAfter` continues after the given call. */
  list(query: CallListQuery): Call[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit };
    if (query.appId) {
      where.push('app_id = @appId');
      params.appId = query.appId;
    }
    if (query.status) {
      where.push('status = @status');
      params.status = query.status;
    }
    if (query.direction) {
      where.push('direction = @direction');
      params.direction = query.direction;
    }
    if (query.channel) {
      where.push('(from_channel = @channel OR to_channel = @channel)');
      params.channel = query.channel;
    }
    if (query.createdFrom) {
      where.push('created_at >= @createdFrom');
      params.createdFrom = query.createdFrom;
    }
    if (query.createdBefore) {
      where.push('created_at < @createdBefore');
      params.createdBefore = query.createdBefore;
    }
    if (query.startingAfter) {
      // rowid breaks ties between calls created in the same millisecond, in insertion order.
      where.push('(created_at, rowid) < (SELECT created_at, rowid FROM calls WHERE id = @cursorId)');
      params.cursorId = query.startingAfter.id;
    }
    const sql = `SELECT * FROM calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, rowid DESC LIMIT @limit`;
    return this.db.sql.prepare<Record<string, unknown>, Row>(sql).all(params).map(fromRow);
  }

  /** Runs `work` in one transaction (nested calls become savepoints). */
  transaction<T>(work: () => T): T {
    return this.db.sql.transaction(work)();
  }
}
