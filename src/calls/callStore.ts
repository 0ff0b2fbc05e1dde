import type { MediaKeying } from '../media/srtp/srtpTypes.js';
import { LOCAL_NODE, OF_NODE, ofNode } from '../store/localNode.js';
import { type SqlStatement, type SqlStore, type SqlValue, statement } from '../store/sql/sqlTypes.js';
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

export function durationSeconds(answeredAt: string | null, endedAt: string | null): number {
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

const COLUMNS = `id, app_id, direction, status, from_address, to_address, from_channel, to_channel,
  metadata, livekit_room_name, started_at, created_at, updated_at, sip_call_id, node_id`;

/**
 * Calls in the store. Changes are statements for the caller to commit with their events (one
 * batch, one transaction); reads are asynchronous. The live state of a call is CallService's to
 * keep: this is its durable copy and the call log.
 */
export class CallStore {
  /** `nodeId`: the node whose calls this one creates (a cluster node's id; LOCAL_NODE alone). */
  constructor(
    private readonly db: SqlStore,
    private readonly nodeId: string = LOCAL_NODE,
  ) {}

  insert(call: Call, sipCallId: string | null = null): SqlStatement {
    return statement(
      `INSERT INTO calls (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      call.id,
      call.appId,
      call.direction,
      call.status,
      call.fromAddress,
      call.toAddress,
      call.fromChannel,
      call.toChannel,
      JSON.stringify(call.metadata),
      call.livekitRoomName,
      call.startedAt,
      call.createdAt,
      call.createdAt,
      sipCallId,
      this.nodeId,
    );
  }

  saveStatus(call: Call, updatedAt: string): SqlStatement {
    return statement(
      `UPDATE calls SET status = ?, end_reason = ?, sip_status = ?, sip_reason = ?, answered_at = ?,
        ended_at = ?, updated_at = ? WHERE id = ?`,
      call.status,
      call.endReason,
      call.sipStatus,
      call.sipReason,
      call.answeredAt,
      call.endedAt,
      updatedAt,
      call.id,
    );
  }

  setSipCallId(id: string, sipCallId: string, updatedAt: string): SqlStatement {
    return statement(
      'UPDATE calls SET sip_call_id = ?, updated_at = ? WHERE id = ?',
      sipCallId,
      updatedAt,
      id,
    );
  }

  /** Records who answered: only the first participant counts, not whoever joined later. */
  setAnsweredBy(id: string, identity: string, updatedAt: string): SqlStatement {
    return statement(
      'UPDATE calls SET answered_by = ?, updated_at = ? WHERE id = ? AND answered_by IS NULL',
      identity,
      updatedAt,
      id,
    );
  }

  markVoicemail(id: string, at: string): SqlStatement {
    return statement('UPDATE calls SET voicemail_at = ? WHERE id = ? AND voicemail_at IS NULL', at, id);
  }

  setRoom(id: string, roomName: string, updatedAt: string): SqlStatement {
    return statement(
      'UPDATE calls SET livekit_room_name = ?, updated_at = ? WHERE id = ?',
      roomName,
      updatedAt,
      id,
    );
  }

  setMedia(id: string, media: CallMedia, updatedAt: string): SqlStatement {
    return statement(
      'UPDATE calls SET media_encryption = ?, updated_at = ? WHERE id = ?',
      media.encryption,
      updatedAt,
      id,
    );
  }

  setMetadata(id: string, metadata: Record<string, unknown>, updatedAt: string): SqlStatement {
    return statement(
      'UPDATE calls SET metadata = ?, updated_at = ? WHERE id = ?',
      JSON.stringify(metadata),
      updatedAt,
      id,
    );
  }

  /** Keeps the call's leg quality (its final figures, once the call ended). */
  setQuality(id: string, quality: CallQuality, updatedAt: string): SqlStatement {
    return statement(
      'UPDATE calls SET quality = ?, updated_at = ? WHERE id = ?',
      JSON.stringify(quality),
      updatedAt,
      id,
    );
  }

  async get(id: string): Promise<Call | undefined> {
    const row = await this.db.get<Row>('SELECT * FROM calls WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  async details(id: string): Promise<CallDetails | undefined> {
    const row = await this.db.get<Row>('SELECT * FROM calls WHERE id = ?', [id]);
    return row
      ? { sipCallId: row.sip_call_id, answeredBy: row.answered_by, voicemail: row.voicemail_at !== null }
      : undefined;
  }

  /**
   * A node's calls that have not ended, oldest first: at this node's start-up, those a crash of
   * its previous process cut off; for another node, those it left when it died.
   */
  async live(nodeId: string = this.nodeId): Promise<Call[]> {
    const rows = await this.db.all<Row>(
      `SELECT * FROM calls WHERE ended_at IS NULL AND ${OF_NODE} ORDER BY created_at, id`,
      ofNode(nodeId),
    );
    return rows.map(fromRow);
  }

  /** Newest first; `startingAfter` continues after the given call. */
  async list(query: CallListQuery): Promise<Call[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (clause: string, ...values: SqlValue[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (query.appId) add('app_id = ?', query.appId);
    if (query.status) add('status = ?', query.status);
    if (query.direction) add('direction = ?', query.direction);
    if (query.channel) add('(from_channel = ? OR to_channel = ?)', query.channel, query.channel);
    if (query.createdFrom) add('created_at >= ?', query.createdFrom);
    if (query.createdBefore) add('created_at < ?', query.createdBefore);
    if (query.startingAfter) {
      // Ids break ties between calls created in the same millisecond: a stable order to page by.
      const after = query.startingAfter;
      add('(created_at < ? OR (created_at = ? AND id < ?))', after.createdAt, after.createdAt, after.id);
    }
    const sql = `SELECT * FROM calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`;
    const rows = await this.db.all<Row>(sql, [...params, query.limit]);
    return rows.map(fromRow);
  }
}
