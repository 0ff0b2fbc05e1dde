import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { newId } from '../store/ids.js';
import type { SqlStatement } from '../store/sql/sqlTypes.js';
import type {
  CallEventSink,
  CallServiceEvents,
  DtmfSource,
  NewCall,
  TransitionRequest,
  TransitionResult,
} from './callServiceTypes.js';
import { checkTransition } from './callStateMachine.js';
import { type CallStore, durationSeconds } from './callStore.js';
import { type Call, type CallMedia, type CallQuality, isFinal, STATUS_EVENTS } from './callTypes.js';
import type { RoomPresence } from './roomPresence.js';
import type { RecordingJournal } from './watchedRecording.js';

/** A new call's id: call_test_… for a test app's calls, call_… otherwise. */
export function newCallId(appId: string): string {
  return newId(appId.startsWith('app_test_') ? 'call_test_' : 'call_');
}

export interface CallServiceDeps {
  store: CallStore;
  events: CallEventSink;
  logger: Logger;
  now: () => Date;
  /** Where calls' recordings are written down (CallRecordings); nowhere when absent. */
  recordings?: RecordingJournal;
  /** Live calls' leg quality (CallQualityBook): shown on them, kept on them as they end. */
  quality?: { current(callId: string): CallQuality | null };
  /** Who is in live calls' rooms; nobody is shown when absent. */
  presence?: RoomPresence;
}

/** What this process knows of a call it carries, beyond the Call object. */
interface LiveEntry {
  call: Call;
  answeredBy: string | null;
}

/**
 * The one place a call's status changes. A live call's state is held here, in memory, by the
 * process that carries it: each change is checked against the state machine on that state and
 * applied at once, so two racing ends of a call (BYE against a hangup command, CANCEL against
 * answer) cannot both win: the second is refused and logged. The change and its event are then
 * handed to the store as one batch (one transaction, committed in order with every other), and
 * published in-process as `transition`. On SQLite the batch is committed before this returns; on
 * PostgreSQL moments later, in order, kept and retried while the database is away.
 *
 * An ended call leaves memory at once; what is said about it later (its recording finished, a
 * late leave) is read back from the store.
 */
export class CallService extends EventEmitter<CallServiceEvents> {
  private readonly live = new Map<string, LiveEntry>();
  private lastCreatedMs = 0;

  constructor(private readonly deps: CallServiceDeps) {
    super();
    // Every open call feed (a console tab) listens to transitions: no fixed number of them.
    this.setMaxListeners(0);
  }

  /** A live call this process carries (with its live state); undefined once it ended. */
  get(id: string): Call | undefined {
    const entry = this.live.get(id);
    return entry && this.withLiveState(entry.call);
  }

  /** Any call, live here or in the store (ended, or carried by another node). */
  async find(id: string): Promise<Call | undefined> {
    return this.get(id) ?? (await this.deps.store.get(id));
  }

  /** The call with what only memory knows while it lives: its leg's quality, who is in its room. */
  withLiveState(call: Call): Call {
    if (call.endedAt) return call;
    const quality = this.deps.quality?.current(call.id);
    const participants = this.deps.presence?.of(call.id) ?? [];
    return { ...call, ...(quality ? { quality } : {}), participants };
  }

  /** The journal a call's recordings are started with (startWatchedRecording's owner). */
  get recordings(): RecordingJournal | undefined {
    return this.deps.recordings;
  }

  /**
   * Creates the call only if its app has fewer than `maxLive` live calls here; the count and the
   * creation happen in one synchronous step, so two INVITEs arriving together cannot both take
   * the last slot.
   */
  createWithin(input: NewCall, maxLive: number): Call | undefined {
    return this.liveCount(input.appId) < maxLive ? this.create(input) : undefined;
  }

  create(input: NewCall): Call {
    // Calls list newest first by createdAt: two created here in one millisecond get the next
    // millisecond for the second, so a list (and its pages) keeps the order they were created in.
    const createdMs = Math.max(this.deps.now().getTime(), this.lastCreatedMs + 1);
    this.lastCreatedMs = createdMs;
    const at = new Date(createdMs).toISOString();
    const id = input.id ?? newCallId(input.appId);
    const call: Call = {
      id,
      appId: input.appId,
      direction: input.direction,
      status: 'initiated',
      fromAddress: input.fromAddress,
      toAddress: input.toAddress,
      fromChannel: input.fromChannel,
      toChannel: input.toChannel,
      duration: 0,
      endReason: null,
      sipStatus: null,
      sipReason: null,
      metadata: input.metadata ?? {},
      livekitRoomName: input.roomFor?.(id) ?? input.livekitRoomName ?? null,
      media: null,
      quality: null,
      participants: [],
      startedAt: at,
      answeredAt: null,
      endedAt: null,
      createdAt: at,
    };
    // Built before the call is taken on: an event the outbox refuses leaves no call behind.
    const batch = [
      this.deps.store.insert(call, input.sipCallId ?? null),
      this.deps.events.append({ event: STATUS_EVENTS.initiated, callId: call.id, data: { call } }),
    ];
    this.live.set(id, { call, answeredBy: null });
    this.commit(batch);
    this.deps.logger.info(
      { callId: call.id, appId: call.appId, direction: call.direction },
      'call initiated',
    );
    this.emit('transition', call, undefined);
    return call;
  }

  /**
   * Takes on calls the store has as live but no process carries (a crashed node's, or this
   * node's before a restart), so they can be ended here.
   */
  adopt(calls: readonly Call[]): void {
    for (const call of calls)
      if (!call.endedAt && !this.live.has(call.id)) this.live.set(call.id, { call, answeredBy: null });
  }

  transition(id: string, request: TransitionRequest): TransitionResult {
    const at = (request.at ?? this.deps.now()).toISOString();
    const entry = this.live.get(id);
    const log = { callId: id, to: request.to, endReason: request.endReason };
    if (!entry) {
      this.deps.logger.warn({ ...log, reason: 'no live call' }, 'call transition refused');
      return { ok: false, call: undefined, reason: 'no such live call' };
    }
    const current = entry.call;
    const check = checkTransition(current.status, request.to, request.endReason);
    if (!check.ok) {
      this.deps.logger.warn(
        { ...log, from: current.status, reason: check.reason },
        'call transition refused',
      );
      return { ok: false, call: this.withLiveState(current), reason: check.reason };
    }
    const final = isFinal(request.to);
    const answeredAt = request.to === 'in_progress' || request.to === 'voicemail' ? at : current.answeredAt;
    const endedAt = final ? at : null;
    // The end's event carries the last figures; the final ones follow when the media closes.
    const quality = final ? this.deps.quality?.current(id) : undefined;
    const next: Call = {
      ...current,
      status: request.to,
      endReason: request.endReason ?? null,
      sipStatus: request.sipStatus ?? current.sipStatus,
      sipReason: request.sipReason ?? current.sipReason,
      answeredAt,
      endedAt,
      duration: durationSeconds(answeredAt, endedAt),
      ...(quality ? { quality } : {}),
    };
    const saved = this.withLiveState(next);
    const statements = [this.deps.store.saveStatus(next, at)];
    if (request.to === 'voicemail') statements.push(this.deps.store.markVoicemail(id, at));
    if (quality) statements.push(this.deps.store.setQuality(id, quality, at));
    statements.push(
      this.deps.events.append({ event: STATUS_EVENTS[request.to], callId: id, data: { call: saved } }),
    );
    if (final) {
      this.live.delete(id);
      this.deps.presence?.forget(id);
    } else {
      entry.call = next;
    }
    this.commit(statements);
    this.deps.logger.info({ ...log, from: current.status }, 'call transition');
    this.emit('transition', saved, current.status);
    return { ok: true, call: saved, previous: current.status };
  }

  /**
   * Appends an event about a call that is not a status change (a gather result): `data` is the
   * call as it is now plus `fields`. A live call's event is recorded at once, in order with its
   * changes; an ended call's once it is read back (its recording completed after the hangup).
   */
  appendEvent(id: string, event: string, fields: Record<string, unknown>): void {
    const live = this.get(id);
    if (live) {
      this.commit([this.deps.events.append({ event, callId: id, data: { ...fields, call: live } })]);
      return;
    }
    void this.deps.store.get(id).then(
      (call) => {
        if (!call) {
          this.deps.logger.warn({ callId: id, event }, 'an event for a call not in storage; not kept');
          return;
        }
        this.commit([this.deps.events.append({ event, callId: id, data: { ...fields, call } })]);
      },
      (error: unknown) =>
        this.deps.logger.error({ err: error, callId: id, event }, 'could not record an event'),
    );
  }

  /** A digit the caller sent: a `calls.dtmf` event with the digit and how it came. False when the call is not live. */
  dtmf(id: string, digit: string, source: DtmfSource): boolean {
    if (!this.live.has(id)) return false;
    this.appendEvent(id, 'calls.dtmf', { digit, source });
    return true;
  }

  /** Records the LiveKit room a call is bridged into; later events carry it with the call. */
  attachRoom(id: string, roomName: string): void {
    this.update(id, { livekitRoomName: roomName }, (at) => this.deps.store.setRoom(id, roomName, at));
  }

  /** Records how the call's SIP leg carries its media (its keying), once offer/answer settled. */
  attachMedia(id: string, media: CallMedia): void {
    this.update(id, { media }, (at) => this.deps.store.setMedia(id, media, at));
  }

  /**
   * Adds what the far end said about a WhatsApp call to `metadata.whatsapp` (Meta's BYE carries
   * the call's duration), keeping what is there.
   */
  addWhatsAppInfo(id: string, info: Record<string, string | number>): void {
    const withInfo = (call: Call) => {
      const whatsapp = call.metadata.whatsapp;
      const before = typeof whatsapp === 'object' && whatsapp !== null ? whatsapp : {};
      return { ...call.metadata, whatsapp: { ...before, ...info } };
    };
    const entry = this.live.get(id);
    if (entry) {
      const metadata = withInfo(entry.call);
      this.update(id, { metadata }, (at) => this.deps.store.setMetadata(id, metadata, at));
      return;
    }
    // Meta's BYE may be read after the call ended: its figures go onto the stored call.
    void this.deps.store.get(id).then(
      (call) => {
        if (call)
          this.commit([this.deps.store.setMetadata(id, withInfo(call), this.deps.now().toISOString())]);
      },
      (error: unknown) =>
        this.deps.logger.error({ err: error, callId: id }, 'could not record WhatsApp details'),
    );
  }

  /** Records the SIP Call-ID of a leg created after the call (outbound). */
  attachSipCallId(id: string, sipCallId: string): void {
    this.commit([this.deps.store.setSipCallId(id, sipCallId, this.deps.now().toISOString())]);
  }

  /**
   * Keeps a call's final leg quality, known when its media closed: after the call ended, or
   * before (the worker ended the session), in which case the end carries it too.
   */
  keepQuality(id: string, quality: CallQuality): void {
    this.update(id, { quality }, (at) => this.deps.store.setQuality(id, quality, at));
  }

  /**
   * A participant joined or left the call's room. The control plane hears of it
   * (`calls.participant.joined` / `left`), and the first one to join is recorded as the one who
   * answered, for the call log.
   */
  participant(id: string, change: 'joined' | 'left', identity: string): void {
    const at = this.deps.now().toISOString();
    const entry = this.live.get(id);
    if (!entry) {
      // An ended call's room is forgotten: a late leave (the agent after the hangup) keeps it so.
      if (change === 'left') this.appendEvent(id, 'calls.participant.left', { participant: { identity } });
      return;
    }
    if (change === 'joined') this.deps.presence?.joined(id, identity, at);
    else this.deps.presence?.left(id, identity);
    const call = this.withLiveState(entry.call);
    const statements: SqlStatement[] = [];
    // Other SIP legs bridged into the room (sip_…) are callees, not the staff who answered.
    if (change === 'joined' && !identity.startsWith('sip_') && entry.answeredBy === null) {
      entry.answeredBy = identity;
      statements.push(this.deps.store.setAnsweredBy(id, identity, at));
    }
    statements.push(
      this.deps.events.append({
        event: `calls.participant.${change}`,
        callId: id,
        data: { call, participant: { identity } },
      }),
    );
    this.commit(statements);
    this.emit('participants', call);
  }

  /** Live calls of an app here, both directions: what maxConcurrentCalls limits on one node. */
  liveCount(appId: string): number {
    let n = 0;
    for (const { call } of this.live.values()) if (call.appId === appId) n += 1;
    return n;
  }

  /** Live calls here by direction and status (for metrics). */
  liveByStatus(): { direction: string; status: string; count: number }[] {
    const counts = new Map<string, { direction: string; status: string; count: number }>();
    for (const { call } of this.live.values()) {
      const key = `${call.direction}/${call.status}`;
      const row = counts.get(key) ?? { direction: call.direction, status: call.status, count: 0 };
      row.count += 1;
      counts.set(key, row);
    }
    return [...counts.values()];
  }

  /**
   * Lets go of a live call another node ended (it took this one over while it was cut off from
   * Redis): no change and no event here, the survivor wrote its end. Returns the call as it was.
   */
  relinquish(id: string): Call | undefined {
    const entry = this.live.get(id);
    if (!entry) return undefined;
    this.live.delete(id);
    this.deps.presence?.forget(id);
    this.deps.logger.warn({ callId: id }, 'call ended by the node that took this one over; let go here');
    return entry.call;
  }

  /** Ids of the calls live here. */
  liveIds(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Calls still live in storage at start-up were cut off by a crash or kill: nothing carries them
   * any more, so they end with `gateway_restart`, and the control plane hears of it. They end
   * when the gateway died (`diedAt`, its last heartbeat), not now, so their durations leave the
   * downtime out; never before they started or were answered. Returns the calls it closed.
   */
  async closeOrphans(diedAt?: Date): Promise<Call[]> {
    return this.endCutOff(await this.deps.store.live(), diedAt);
  }

  /** Ends calls no process carries any more (see closeOrphans). */
  endCutOff(calls: readonly Call[], diedAt?: Date): Call[] {
    this.adopt(calls);
    const closed: Call[] = [];
    const now = this.deps.now();
    for (const call of calls) {
      const answered = call.status === 'in_progress' || call.status === 'voicemail';
      const floor = Date.parse(call.answeredAt ?? call.startedAt ?? call.createdAt);
      const at = diedAt ? new Date(Math.min(now.getTime(), Math.max(floor, diedAt.getTime()))) : now;
      const result = this.transition(call.id, {
        to: answered ? 'completed' : 'failed',
        endReason: 'gateway_restart',
        at,
      });
      if (result.ok) closed.push(result.call);
    }
    return closed;
  }

  /** A live call's fields that are not its status, changed in memory and in the store. */
  private update(id: string, fields: Partial<Call>, change: (at: string) => SqlStatement): void {
    const entry = this.live.get(id);
    if (entry) entry.call = { ...entry.call, ...fields };
    this.commit([change(this.deps.now().toISOString())]);
  }

  private commit(statements: readonly SqlStatement[]): void {
    this.deps.events.commit(statements);
  }
}
