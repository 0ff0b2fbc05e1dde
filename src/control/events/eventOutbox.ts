import type { Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Database } from '../../store/database.js';
import { newId } from '../../store/ids.js';
import {
  CALL_EVENT_NAMES,
  type CallEventName,
  eventDataSchema,
  SIP_EVENT_NAMES,
  type SipEventName,
  sipEventDataSchema,
} from './eventMessages.js';
import type {
  AppendInput,
  OutboxEvent,
  OutboxListener,
  RefusalCounter,
  SipAppendInput,
} from './outboxTypes.js';

export interface EventOutboxOptions {
  database: Database;
  logger: Logger;
  /** Unacked events at which `canAcceptWork()` turns false. */
  maxDepth: number;
  /**
   * Whether a full outbox refuses work. False when no control plane is configured: nobody will
   * ever ack, so waiting for acks would only stop calls (events then age out by retention).
   */
  enforceMaxDepth: boolean;
  refusals?: RefusalCounter;
  now?: () => Date;
}

interface Row {
  seq: number;
  event_id: string;
  event: string;
  call_id: string | null;
  payload: string;
  created_at: string;
}

const LAST_ACKED_KEY = 'last_acked_seq';
const GATEWAY_ID_KEY = 'gateway_id';
/** Rows deleted per statement while pruning, so one prune never holds the write lock for long. */
const PRUNE_BATCH = 5000;

function fromRow(row: Row): OutboxEvent {
  return {
    seq: row.seq,
    eventId: row.event_id,
    event: row.event as CallEventName | SipEventName,
    callId: row.call_id,
    timestamp: row.created_at,
    data: JSON.parse(row.payload) as OutboxEvent['data'],
  };
}

/**
 * The durable queue of events for the control plane, in the `event_outbox` table.
 *
 * Synchronous like the rest of the store, so `append` joins whatever transaction its caller has
 * open: a call's change and its event commit together or not at all. Nothing is pushed to the
 * channel from inside `append`; listeners are only told, after the caller's synchronous code
 * (and so its transaction) has finished, to go and read the table. An event whose transaction
 * rolled back is therefore never read, never sent.
 *
 * seq comes from AUTOINCREMENT under SQLite's single-writer lock, so commits happen in seq order:
 * once seq N is readable, no event below N can still appear. That is what makes a cumulative ack
 * safe.
 */
export class EventOutbox {
  private readonly sql: Database['sql'];
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly listeners = new Set<OutboxListener>();
  private notifyQueued = false;
  private refusing = false;
  private readonly stmt: {
    insert: Statement<[string, string, string | null, string, string]>;
    unackedAfter: Statement<[number, number], Row>;
    ack: Statement<[string, number]>;
    setState: Statement<[string, string]>;
    getState: Statement<[string], { value: string }>;
    insertStateIfAbsent: Statement<[string, string]>;
    prune: Statement<[string, number]>;
    pruneAny: Statement<[string, number]>;
    depth: Statement<[], { n: number }>;
    oldestUnacked: Statement<[], { created_at: string }>;
    highestSeq: Statement<[], { seq: number | null }>;
  };

  constructor(private readonly options: EventOutboxOptions) {
    this.sql = options.database.sql;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
    const sql = this.sql;
    this.stmt = {
      insert: sql.prepare(
        'INSERT INTO event_outbox (event_id, event, call_id, payload, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      unackedAfter: sql.prepare(
        `SELECT seq, event_id, event, call_id, payload, created_at FROM event_outbox
         WHERE seq > ? AND acked_at IS NULL ORDER BY seq LIMIT ?`,
      ),
      ack: sql.prepare('UPDATE event_outbox SET acked_at = ? WHERE seq <= ? AND acked_at IS NULL'),
      setState: sql.prepare(
        'INSERT INTO event_channel_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      getState: sql.prepare('SELECT value FROM event_channel_state WHERE key = ?'),
      insertStateIfAbsent: sql.prepare(
        'INSERT OR IGNORE INTO event_channel_state (key, value) VALUES (?, ?)',
      ),
      prune: sql.prepare(
        `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox
         WHERE acked_at IS NOT NULL AND acked_at < ? ORDER BY seq LIMIT ?)`,
      ),
      pruneAny: sql.prepare(
        `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox
         WHERE created_at < ? ORDER BY seq LIMIT ?)`,
      ),
      depth: sql.prepare('SELECT COUNT(*) AS n FROM event_outbox WHERE acked_at IS NULL'),
      oldestUnacked: sql.prepare(
        'SELECT created_at FROM event_outbox WHERE acked_at IS NULL ORDER BY seq LIMIT 1',
      ),
      highestSeq: sql.prepare('SELECT MAX(seq) AS seq FROM event_outbox'),
    };
  }

  /**
   * Records an event; call it inside the transaction that makes the change it describes. Throws
   * (rolling that transaction back) on an unknown event name or malformed data: an event the
   * control plane could not read must not become durable.
   */
  append(input: AppendInput): OutboxEvent {
    if (!(CALL_EVENT_NAMES as readonly string[]).includes(input.event)) {
      throw new Error(`unknown event name "${input.event}"`);
    }
    const parsed = eventDataSchema.safeParse(input.data);
    if (!parsed.success) {
      throw new Error(`event ${input.event} has malformed data: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    if (parsed.data.call.id !== input.callId) {
      throw new Error(`event ${input.event} for ${input.callId} carries call ${parsed.data.call.id}`);
    }
    const eventId = newId('evt_');
    const timestamp = this.now().toISOString();
    const info = this.stmt.insert.run(
      eventId,
      input.event,
      input.callId,
      JSON.stringify(input.data),
      timestamp,
    );
    this.queueNotify();
    return {
      seq: Number(info.lastInsertRowid),
      eventId,
      event: input.event,
      callId: input.callId,
      timestamp,
      data: input.data,
    };
  }

  /**
   * Records a routing event (sip.*, no call), delivered like any other. Not gated by the outbox's
   * depth: a routing change is made already when it is reported.
   */
  appendSip(input: SipAppendInput): OutboxEvent {
    if (!(SIP_EVENT_NAMES as readonly string[]).includes(input.event)) {
      throw new Error(`unknown event name "${input.event}"`);
    }
    const parsed = sipEventDataSchema.safeParse(input.data);
    if (!parsed.success) {
      throw new Error(`event ${input.event} has malformed data: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    const eventId = newId('evt_');
    const timestamp = this.now().toISOString();
    const info = this.stmt.insert.run(eventId, input.event, null, JSON.stringify(parsed.data), timestamp);
    this.queueNotify();
    return {
      seq: Number(info.lastInsertRowid),
      eventId,
      event: input.event,
      callId: null,
      timestamp,
      data: parsed.data,
    };
  }

  /** Called (once per burst of appends) when new events may be readable. Returns an unsubscribe. */
  onAppend(listener: OutboxListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Committed, unacked events with seq above `seq`, oldest first. */
  unackedAfter(seq: number, limit: number): OutboxEvent[] {
    return this.stmt.unackedAfter.all(seq, limit).map(fromRow);
  }

  /**
   * Cumulative: every event up to `seq` is acked. Idempotent (an old or repeated ack changes
   * nothing). Returns how many events this ack newly covered.
   */
  ack(seq: number): number {
    const highest = this.highestSeq();
    if (seq > highest) throw new RangeError(`ack for seq ${seq}, above the highest seq ${highest}`);
    return this.sql.transaction(() => {
      const changed = this.stmt.ack.run(this.now().toISOString(), seq).changes;
      if (seq > this.lastAckedSeq()) this.stmt.setState.run(LAST_ACKED_KEY, String(seq));
      return changed;
    })();
  }

  /** The highest seq the control plane acked, as last stored; 0 before the first ack. */
  lastAckedSeq(): number {
    const row = this.stmt.getState.get(LAST_ACKED_KEY);
    return row ? Number(row.value) : 0;
  }

  highestSeq(): number {
    return this.stmt.highestSeq.get()?.seq ?? 0;
  }

  /**
   * Deletes acked events acked before `olderThan`. With `includeUnacked`, deletes every event
   * appended before it, acked or not: only for a gateway with no control plane configured, where
   * nothing will ever ack and the retention window is all that is kept.
   */
  prune(olderThan: Date, options: { includeUnacked?: boolean } = {}): number {
    const statement = options.includeUnacked ? this.stmt.pruneAny : this.stmt.prune;
    const cutoff = olderThan.toISOString();
    let total = 0;
    for (;;) {
      const deleted = statement.run(cutoff, PRUNE_BATCH).changes;
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }

  /** Events appended and not yet acked. */
  depth(): number {
    return this.stmt.depth.get()?.n ?? 0;
  }

  /** Age of the oldest unacked event; 0 when everything is acked. */
  oldestUnackedAgeMs(): number {
    const row = this.stmt.oldestUnacked.get();
    if (!row) return 0;
    return Math.max(0, this.now().getTime() - Date.parse(row.created_at));
  }

  isFull(): boolean {
    return this.depth() >= this.options.maxDepth;
  }

  /**
   * Whether the gateway may start new work (a new call): false while the outbox is full, so
   * calls are refused (503) instead of their events being dropped. Existing calls go on and keep
   * appending; nothing already accepted is refused. Each refusal is counted; the change into and
   * out of the full state is logged once each way.
   */
  canAcceptWork(): boolean {
    if (!this.options.enforceMaxDepth) return true;
    const full = this.isFull();
    if (full !== this.refusing) {
      this.refusing = full;
      const state = { depth: this.depth(), maxDepth: this.options.maxDepth };
      if (full) this.logger.warn(state, 'event outbox full: refusing new calls until the control plane acks');
      else this.logger.info(state, 'event outbox below its limit: accepting new calls again');
    }
    if (full) this.options.refusals?.inc();
    return !full;
  }

  /**
   * This gateway's identity towards the control plane: created with the database and kept in it,
   * because seq numbers belong to this database and the control plane tracks acks per gateway.
   */
  gatewayId(): string {
    this.stmt.insertStateIfAbsent.run(GATEWAY_ID_KEY, newId('gw_'));
    return (this.stmt.getState.get(GATEWAY_ID_KEY) as { value: string }).value;
  }

  /**
   * Listeners run in a microtask: by then the caller's synchronous transaction has committed or
   * rolled back. A transaction left open across an `await` (manual BEGIN) is still in progress
   * then, and its rows are visible to this connection, so the notification waits until it ends.
   */
  private queueNotify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => this.notify());
  }

  private notify(): void {
    if (this.sql.open && this.sql.inTransaction) {
      setImmediate(() => this.notify());
      return;
    }
    this.notifyQueued = false;
    for (const listener of this.listeners) listener();
  }

  /** Whether reads are safe now: the store is open and no transaction of this connection is pending. */
  get readable(): boolean {
    return this.sql.open && !this.sql.inTransaction;
  }
}
