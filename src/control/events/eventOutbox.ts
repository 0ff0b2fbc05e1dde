import type { Logger } from 'pino';
import { newId } from '../../store/ids.js';
import { LOCAL_NODE, OF_NODE, ofNode } from '../../store/localNode.js';
import { type SqlExecutor, type SqlStatement, type SqlStore, statement } from '../../store/sql/sqlTypes.js';
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
  database: SqlStore;
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
  /**
   * Whose stream this is: the node writing it (its events, its acks, its gateway id). On a
   * database several nodes share, each node's events are a stream of their own. LOCAL_NODE alone.
   */
  nodeId?: string;
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

/** An event's row, to commit: the statement, and the id the event has from now on. */
export interface OutboxRow extends SqlStatement {
  readonly eventId: string;
}

const INSERT =
  'INSERT INTO event_outbox (event_id, event, call_id, payload, created_at, node_id) VALUES (?, ?, ?, ?, ?, ?)';

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
 * `append` makes an event's row as a statement, for the caller to commit in one batch with the
 * change the event describes (`commit`): a call's change and its event commit together or not at
 * all. Listeners are told only once a batch is committed, to go and read the table, so an event
 * whose batch failed is never read, never sent.
 *
 * Batches commit one after another in the order they were handed over (the store's single
 * writer), so seq, assigned at insert, grows in commit order: once seq N is readable, no event
 * below N can still appear. That is what makes a cumulative ack safe.
 *
 * The depth and the last ack are kept in memory too (loaded by `open`), because admission asks
 * for them on every new call and must not wait on the database.
 */
export class EventOutbox {
  private readonly db: SqlStore;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly listeners = new Set<OutboxListener>();
  private readonly events = new WeakSet<SqlStatement>();
  private notifyQueued = false;
  private refusing = false;
  private unacked = 0;
  private lastAcked = 0;
  private gateway = '';
  private readonly nodeId: string;
  /** The parameters of `${OF_NODE}`: this stream's rows. */
  private readonly mine: [string, string, string];

  constructor(private readonly options: EventOutboxOptions) {
    this.db = options.database;
    this.logger = options.logger;
    this.now = options.now ?? (() => new Date());
    this.nodeId = options.nodeId ?? LOCAL_NODE;
    this.mine = ofNode(this.nodeId);
  }

  /** Reads what the outbox keeps in memory (its depth, the last ack, the gateway's id). */
  async open(): Promise<this> {
    await this.db.write([
      statement(
        'INSERT INTO event_channel_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
        this.key(GATEWAY_ID_KEY),
        newId('gw_'),
      ),
    ]);
    this.gateway = (await this.state(this.key(GATEWAY_ID_KEY))) ?? '';
    this.lastAcked = Number((await this.state(this.key(LAST_ACKED_KEY))) ?? 0);
    await this.recount();
    return this;
  }

  /**
   * The row of an event, to commit with the change it describes. Throws on an unknown event name
   * or malformed data: an event the control plane could not read must not become durable.
   */
  append(input: AppendInput): OutboxRow {
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
    return this.row(input.event, input.callId, input.data);
  }

  /**
   * Commits a batch (a change and the events `append` made for it); the channel hears of its
   * events once it is committed.
   */
  commit(statements: readonly SqlStatement[]): void {
    const events = statements.filter((s) => this.events.has(s)).length;
    // Counted at once: admission must see an event the moment it is handed over.
    this.unacked += events;
    this.db.write(statements).then(
      () => {
        if (events > 0) this.queueNotify();
      },
      () => {
        this.unacked -= events;
      },
    );
  }

  /**
   * Records a routing event (sip.*, no call), delivered like any other. Not gated by the outbox's
   * depth: a routing change is made already when it is reported.
   */
  /** Appends and commits an event that goes with no other change; its id. */
  record(input: AppendInput): string {
    const row = this.append(input);
    this.commit([row]);
    return row.eventId;
  }

  appendSip(input: SipAppendInput): void {
    if (!(SIP_EVENT_NAMES as readonly string[]).includes(input.event)) {
      throw new Error(`unknown event name "${input.event}"`);
    }
    const parsed = sipEventDataSchema.safeParse(input.data);
    if (!parsed.success) {
      throw new Error(`event ${input.event} has malformed data: ${parsed.error.issues[0]?.message ?? ''}`);
    }
    this.commit([this.row(input.event, null, parsed.data)]);
  }

  /** Called (once per burst of commits) when new events may be readable. Returns an unsubscribe. */
  onAppend(listener: OutboxListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Committed, unacked events with seq above `seq`, oldest first. */
  async unackedAfter(seq: number, limit: number): Promise<OutboxEvent[]> {
    const rows = await this.db.all<Row>(
      `SELECT seq, event_id, event, call_id, payload, created_at FROM event_outbox
       WHERE seq > ? AND acked_at IS NULL AND ${OF_NODE} ORDER BY seq LIMIT ?`,
      [seq, ...this.mine, limit],
    );
    return rows.map(fromRow);
  }

  /**
   * Cumulative: every event up to `seq` is acked. Idempotent (an old or repeated ack changes
   * nothing). Returns how many events this ack newly covered.
   */
  async ack(seq: number): Promise<number> {
    const changed = await this.db.transaction(async (tx) => {
      const highest = (await this.highestOn(tx)) ?? 0;
      if (seq > highest) throw new RangeError(`ack for seq ${seq}, above the highest seq ${highest}`);
      const { changes } = await tx.run(
        `UPDATE event_outbox SET acked_at = ? WHERE seq <= ? AND acked_at IS NULL AND ${OF_NODE}`,
        [this.now().toISOString(), seq, ...this.mine],
      );
      if (seq > this.lastAcked) {
        await tx.run(
          'INSERT INTO event_channel_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [this.key(LAST_ACKED_KEY), String(seq)],
        );
      }
      return changes;
    });
    if (seq > this.lastAcked) this.lastAcked = seq;
    this.unacked = Math.max(0, this.unacked - changed);
    return changed;
  }

  /** The highest seq the control plane acked, as last stored; 0 before the first ack. */
  lastAckedSeq(): number {
    return this.lastAcked;
  }

  async highestSeq(): Promise<number> {
    return (await this.highestOn(this.db)) ?? 0;
  }

  private async highestOn(sql: SqlExecutor): Promise<number | null | undefined> {
    const row = await sql.get<{ seq: number | null }>(
      `SELECT MAX(seq) AS seq FROM event_outbox WHERE ${OF_NODE}`,
      this.mine,
    );
    return row?.seq;
  }

  /** A state key of this stream (a single node keeps the names it always had). */
  private key(name: string): string {
    return this.nodeId === LOCAL_NODE ? name : `node:${this.nodeId}:${name}`;
  }

  /**
   * Deletes acked events acked before `olderThan`. With `includeUnacked`, deletes every event
   * appended before it, acked or not: only for a gateway with no control plane configured, where
   * nothing will ever ack and the retention window is all that is kept.
   */
  async prune(olderThan: Date, options: { includeUnacked?: boolean } = {}): Promise<number> {
    const text = options.includeUnacked
      ? `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox
         WHERE created_at < ? AND ${OF_NODE} ORDER BY seq LIMIT ?)`
      : `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox
         WHERE acked_at IS NOT NULL AND acked_at < ? AND ${OF_NODE} ORDER BY seq LIMIT ?)`;
    const cutoff = olderThan.toISOString();
    let total = 0;
    for (;;) {
      const { changes } = await this.db.run(text, [cutoff, ...this.mine, PRUNE_BATCH]);
      total += changes;
      if (changes < PRUNE_BATCH) break;
    }
    if (options.includeUnacked && total > 0) await this.recount();
    return total;
  }

  /** Events handed over and not yet acked. */
  depth(): number {
    return this.unacked;
  }

  /** Age of the oldest unacked event; 0 when everything is acked. */
  async oldestUnackedAgeMs(): Promise<number> {
    const row = await this.db.get<{ created_at: string }>(
      `SELECT created_at FROM event_outbox WHERE acked_at IS NULL AND ${OF_NODE} ORDER BY seq LIMIT 1`,
      this.mine,
    );
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
    return this.gateway;
  }

  /** Whether reads are possible: the store is open. */
  get readable(): boolean {
    return this.db.isOpen;
  }

  private row(event: string, callId: string | null, data: unknown): OutboxRow {
    const eventId = newId('evt_');
    const row = {
      ...statement(
        INSERT,
        eventId,
        event,
        callId,
        JSON.stringify(data),
        this.now().toISOString(),
        this.nodeId,
      ),
      eventId,
    };
    this.events.add(row);
    return row;
  }

  private async state(key: string): Promise<string | undefined> {
    return (
      await this.db.get<{ value: string }>('SELECT value FROM event_channel_state WHERE key = ?', [key])
    )?.value;
  }

  private async recount(): Promise<void> {
    const row = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM event_outbox WHERE acked_at IS NULL AND ${OF_NODE}`,
      this.mine,
    );
    this.unacked = row?.n ?? 0;
  }

  /** Listeners run in a microtask, once per burst of commits. */
  private queueNotify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of this.listeners) listener();
    });
  }
}
