import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { newId } from '../store/ids.js';
import type {
  CallEventSink,
  CallServiceEvents,
  DtmfSource,
  NewCall,
  TransitionRequest,
  TransitionResult,
} from './callServiceTypes.js';
import { checkTransition } from './callStateMachine.js';
import type { CallStore } from './callStore.js';
import { type Call, type CallMedia, type CallQuality, isFinal, STATUS_EVENTS } from './callTypes.js';
import type { RoomPresence } from './roomPresence.js';
import type { RecordingJournal } from './watchedRecording.js';

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

/**
 * The one place a call's status changes. Each change is checked against the state machine,
 * written with its event in one transaction (so the control plane hears of exactly the changes
 * that happened), and then published in-process as `transition`. Because the read, the check and
 * the write run in one synchronous SQLite transaction, two racing ends of a call (BYE against a
 * hangup command, CANCEL against answer) cannot both win: the second is refused and logged.
 */
export class CallService extends EventEmitter<CallServiceEvents> {
  constructor(private readonly deps: CallServiceDeps) {
    super();
    // Every open call feed (a console tab) listens to transitions: no fixed number of them.
    this.setMaxListeners(0);
  }

  get(id: string): Call | undefined {
    const call = this.deps.store.get(id);
    return call && this.withLiveState(call);
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
   * Creates the call only if its app has fewer than `maxLive` live calls; the count and the insert
   * share one transaction, so two INVITEs arriving together cannot both take the last slot.
   */
  createWithin(input: NewCall, maxLive: number): Call | undefined {
    return this.deps.store.transaction(() =>
      this.deps.store.liveCount(input.appId) < maxLive ? this.create(input) : undefined,
    );
  }

  create(input: NewCall): Call {
    const at = this.deps.now().toISOString();
    const test = input.appId.startsWith('app_test_');
    const id = newId(test ? 'call_test_' : 'call_');
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
    this.deps.store.transaction(() => {
      this.deps.store.insert(call, input.sipCallId ?? null);
      this.deps.events.append({ event: STATUS_EVENTS.initiated, callId: call.id, data: { call } });
    });
    this.deps.logger.info(
      { callId: call.id, appId: call.appId, direction: call.direction },
      'call initiated',
    );
    this.emit('transition', call, undefined);
    return call;
  }

  transition(id: string, request: TransitionRequest): TransitionResult {
    const at = (request.at ?? this.deps.now()).toISOString();
    const outcome = this.deps.store.transaction((): TransitionResult => {
      const current = this.deps.store.get(id);
      if (!current) return { ok: false, call: undefined, reason: 'no such call' };
      const check = checkTransition(current.status, request.to, request.endReason);
      if (!check.ok) return { ok: false, call: current, reason: check.reason };
      const next: Call = {
        ...current,
        status: request.to,
        endReason: request.endReason ?? null,
        sipStatus: request.sipStatus ?? current.sipStatus,
        sipReason: request.sipReason ?? current.sipReason,
        answeredAt: request.to === 'in_progress' || request.to === 'voicemail' ? at : current.answeredAt,
        endedAt: isFinal(request.to) ? at : null,
      };
      this.deps.store.saveStatus(next, at);
      if (request.to === 'voicemail') this.deps.store.markVoicemail(id, at);
      // The end's event carries the last figures; the final ones follow when the media closes.
      const quality = isFinal(request.to) ? this.deps.quality?.current(id) : undefined;
      if (quality) this.deps.store.setQuality(id, quality, at);
      // Read back so derived fields (duration) are exactly what GET will return.
      const saved = this.withLiveState(this.deps.store.get(id) ?? next);
      if (isFinal(request.to)) this.deps.presence?.forget(id);
      this.deps.events.append({ event: STATUS_EVENTS[request.to], callId: id, data: { call: saved } });
      return { ok: true, call: saved, previous: current.status };
    });
    const log = { callId: id, to: request.to, endReason: request.endReason };
    if (!outcome.ok) {
      this.deps.logger.warn(
        { ...log, from: outcome.call?.status, reason: outcome.reason },
        'call transition refused',
      );
      return outcome;
    }
    this.deps.logger.info({ ...log, from: outcome.previous }, 'call transition');
    this.emit('transition', outcome.call, outcome.previous);
    return outcome;
  }

  /**
   * Appends an event about a call that is not a status change (a gather result): `data` is the
   * call as it is now plus `fields`. False when there is no such call.
   */
  appendEvent(id: string, event: string, fields: Record<string, unknown>): boolean {
    return this.deps.store.transaction(() => {
      const call = this.deps.store.get(id);
      if (!call) return false;
      this.deps.events.append({ event, callId: id, data: { ...fields, call } });
      return true;
    });
  }

  /** A digit the caller sent: a `calls.dtmf` event with the digit and how it came. */
  dtmf(id: string, digit: string, source: DtmfSource): boolean {
    return this.appendEvent(id, 'calls.dtmf', { digit, source });
  }

  /** Records the LiveKit room a call is bridged into; later events carry it with the call. */
  attachRoom(id: string, roomName: string): void {
    this.deps.store.setRoom(id, roomName, this.deps.now().toISOString());
  }

  /** Records how the call's SIP leg carries its media (its keying), once offer/answer settled. */
  attachMedia(id: string, media: CallMedia): void {
    this.deps.store.setMedia(id, media, this.deps.now().toISOString());
  }

  /**
   * Adds what the far end said about a WhatsApp call to `metadata.whatsapp` (Meta's BYE carries
   * the call's duration), keeping what is there.
   */
  addWhatsAppInfo(id: string, info: Record<string, string | number>): void {
    const call = this.deps.store.get(id);
    if (!call) return;
    const whatsapp = call.metadata.whatsapp;
    const before = typeof whatsapp === 'object' && whatsapp !== null ? whatsapp : {};
    const metadata = { ...call.metadata, whatsapp: { ...before, ...info } };
    this.deps.store.setMetadata(id, metadata, this.deps.now().toISOString());
  }

  /** Records the SIP Call-ID of a leg created after the call (outbound). */
  attachSipCallId(id: string, sipCallId: string): void {
    this.deps.store.setSipCallId(id, sipCallId, this.deps.now().toISOString());
  }

  /**
   * A participant joined or left the call's room. The control plane hears of it
   * (`calls.participant.joined` / `left`), and the first one to join is recorded as the one who
   * answered, for the call log.
   */
  participant(id: string, change: 'joined' | 'left', identity: string): void {
    const at = this.deps.now().toISOString();
    const changed = this.deps.store.transaction(() => {
      const stored = this.deps.store.get(id);
      if (!stored) return undefined;
      // An ended call's room is forgotten: a late leave (the agent after the hangup) keeps it so.
      if (!stored.endedAt && change === 'joined') this.deps.presence?.joined(id, identity, at);
      if (change === 'left') this.deps.presence?.left(id, identity);
      const call = this.withLiveState(stored);
      // Other SIP legs bridged into the room (sip_…) are callees, not the staff who answered.
      if (change === 'joined' && !identity.startsWith('sip_'))
        this.deps.store.setAnsweredBy(id, identity, at);
      this.deps.events.append({
        event: `calls.participant.${change}`,
        callId: id,
        data: { call, participant: { identity } },
      });
      return call;
    });
    if (changed) this.emit('participants', changed);
  }

  /** Live calls of an app, both directions: what maxConcurrentCalls limits. */
  liveCount(appId: string): number {
    return this.deps.store.liveCount(appId);
  }

  /**
   * Calls still live in storage at start-up were cut off by a crash or kill: nothing carries them
   * any more, so they end with `gateway_restart`, and the control plane hears of it. They end
   * when the gateway died (`diedAt`, its last heartbeat), not now, so their durations leave the
   * downtime out; never before they started or were answered. Returns the calls it closed.
   */
  closeOrphans(diedAt?: Date): Call[] {
    const closed: Call[] = [];
    const now = this.deps.now();
    for (const id of this.deps.store.liveIds()) {
      const call = this.deps.store.get(id);
      if (!call) continue;
      const answered = call.status === 'in_progress' || call.status === 'voicemail';
      const floor = Date.parse(call.answeredAt ?? call.startedAt ?? call.createdAt);
      const at = diedAt ? new Date(Math.min(now.getTime(), Math.max(floor, diedAt.getTime()))) : now;
      const result = this.transition(id, {
        to: answered ? 'completed' : 'failed',
        endReason: 'gateway_restart',
        at,
      });
      if (result.ok) closed.push(result.call);
    }
    return closed;
  }
}
