import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallRecordings } from '../../../src/calls/callRecordings.js';
import { CallService } from '../../../src/calls/callService.js';
import type { CallEventSink, NewCall } from '../../../src/calls/callServiceTypes.js';
import { CallStore } from '../../../src/calls/callStore.js';
import { RestartRecovery, type RestartRecoveryDeps } from '../../../src/calls/restartRecovery.js';
import type { RecordingEndedEvent } from '../../../src/media/workers/mediaChannelTypes.js';
import { Database } from '../../../src/store/database.js';
import { LivenessStore } from '../../../src/store/livenessStore.js';
import { migrations } from '../../../src/store/migrations.js';
import { type NewRecording, RecordingStore } from '../../../src/store/recordingStore.js';

const logger = pino({ level: 'silent' });
const APP = 'app_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X';
const OTHER_APP = 'app_test_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y';
const inbound: NewCall = {
  appId: APP,
  direction: 'inbound',
  fromAddress: '+15550100',
  toAddress: '+15550199',
  fromChannel: 'pstn',
  toChannel: 'webrtc',
};

class Sink implements CallEventSink {
  readonly events: { event: string; callId: string; data: Record<string, unknown> }[] = [];
  append(event: { event: string; callId: string; data: Record<string, unknown> }): void {
    this.events.push(event);
  }
}

/** One gateway process's view of a database file: what a restart opens anew. */
function open(path: string, now: () => Date) {
  const db = new Database({ path, synchronous: 'full', logger });
  const sink = new Sink();
  const callStore = new CallStore(db);
  const store = new RecordingStore(db);
  const recordings = new CallRecordings({ store, calls: callStore, events: sink, logger, now });
  const calls = new CallService({ store: callStore, events: sink, logger, now, recordings });
  return { db, sink, store, recordings, calls };
}

function ended(recordingId: string, fields: Partial<RecordingEndedEvent> = {}): RecordingEndedEvent {
  return {
    sessionId: 's1',
    recordingId,
    path: '/unused',
    format: 'ogg',
    durationMs: 4_020,
    bytes: 1234,
    reason: 'session_closed',
    message: null,
    ...fields,
  };
}

let dir: string;
let clock: Date;
const now = () => clock;
function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'recording-store-'));
  clock = new Date('2026-12-01T10:00:00.000Z');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RecordingStore', () => {
  let db: Database;
  let store: RecordingStore;
  beforeEach(() => {
    db = new Database({ path: ':memory:', synchronous: 'full', logger });
    store = new RecordingStore(db);
  });
  afterEach(() => db.close());

  const row = (id: string, fields: Partial<NewRecording> = {}): NewRecording => ({
    id,
    appId: APP,
    callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X',
    kind: 'call',
    format: 'ogg',
    path: `/recordings/${id}.ogg`,
    startedAt: '2026-12-01T10:00:00.000Z',
    ...fields,
  });

  it('is migration 9: a recording is written as recording, then ended once', () => {
    expect(migrations.find((m) => m.name === 'recordings')?.version).toBe(9);
    store.insert(row('rec_0000000000000001'));
    expect(store.get('rec_0000000000000001')).toEqual({
      ...row('rec_0000000000000001'),
      state: 'recording',
      durationMs: null,
      bytes: null,
      endedAt: null,
    });
    expect(store.inProgress().map((r) => r.id)).toEqual(['rec_0000000000000001']);
    const end = {
      state: 'completed',
      durationMs: 5000,
      bytes: 777,
      endedAt: '2026-12-01T10:00:05.000Z',
    } as const;
    expect(store.end('rec_0000000000000001', end)).toBe(true);
    // An end is final: a second one (a late report) changes nothing.
    expect(store.end('rec_0000000000000001', { ...end, state: 'interrupted', bytes: 1 })).toBe(false);
    expect(store.get('rec_0000000000000001')).toMatchObject({
      state: 'completed',
      bytes: 777,
      durationMs: 5000,
    });
    expect(store.inProgress()).toEqual([]);
    expect(store.end('rec_00000000000000ff', end)).toBe(false);
  });

  it('refuses a kind or state the schema does not know', () => {
    expect(() => store.insert(row('rec_0000000000000001', { kind: 'other' as never }))).toThrow(/CHECK/);
  });

  it('lists newest first, filtered by app, call and kind, paged after a cursor (ties broken by id)', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString();
    store.insert(row('rec_0000000000000001', { startedAt: at(1) }));
    store.insert(row('rec_0000000000000002', { startedAt: at(2), kind: 'voicemail' }));
    store.insert(row('rec_0000000000000003', { startedAt: at(2) }));
    store.insert(row('rec_0000000000000004', { startedAt: at(3), appId: OTHER_APP }));
    store.insert(
      row('rec_0000000000000005', { startedAt: at(4), callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y' }),
    );
    const ids = (list: { id: string }[]) => list.map((r) => r.id.slice(-1));
    expect(ids(store.list({ limit: 10 }))).toEqual(['5', '4', '3', '2', '1']);
    expect(ids(store.list({ appId: APP, limit: 10 }))).toEqual(['5', '3', '2', '1']);
    expect(ids(store.list({ appId: APP, kind: 'voicemail', limit: 10 }))).toEqual(['2']);
    expect(ids(store.list({ callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y', limit: 10 }))).toEqual(['5']);
    const first = store.list({ appId: APP, limit: 2 });
    expect(ids(first)).toEqual(['5', '3']);
    const second = store.list({ appId: APP, after: first[1] as { id: string; startedAt: string }, limit: 2 });
    expect(ids(second)).toEqual(['2', '1']);
  });

  it('removes a recording once', () => {
    store.insert(row('rec_0000000000000001'));
    expect(store.remove('rec_0000000000000001')).toBe(true);
    expect(store.remove('rec_0000000000000001')).toBe(false);
    expect(store.get('rec_0000000000000001')).toBeUndefined();
  });
});

describe('CallRecordings', () => {
  it("keeps a recording under its call's app from start to end: completed, failed, or interrupted with the file's size", () => {
    const { db, store, recordings, calls } = open(':memory:', now);
    const call = calls.create(inbound);
    const file = join(dir, 'interrupted.ogg');
    writeFileSync(file, Buffer.alloc(321));
    for (const [id, kind] of [
      ['rec_00000000000000a1', 'call'],
      ['rec_00000000000000a2', 'voicemail'],
      ['rec_00000000000000a3', 'flow'],
    ] as const) {
      recordings.started({ recordingId: id, callId: call.id, kind, format: 'ogg', path: file });
    }
    expect(store.get('rec_00000000000000a1')).toMatchObject({
      appId: APP,
      callId: call.id,
      kind: 'call',
      state: 'recording',
      startedAt: '2026-12-01T10:00:00.000Z',
    });
    advance(4_000);
    recordings.ended('rec_00000000000000a1', ended('rec_00000000000000a1'));
    recordings.ended('rec_00000000000000a2', ended('rec_00000000000000a2', { reason: 'error', bytes: 10 }));
    // Its worker died: no recordingEnded, the file's size as ffmpeg left it.
    recordings.ended('rec_00000000000000a3', null);
    expect(store.get('rec_00000000000000a1')).toMatchObject({
      state: 'completed',
      durationMs: 4_020,
      bytes: 1234,
      endedAt: '2026-12-01T10:00:04.000Z',
    });
    expect(store.get('rec_00000000000000a2')).toMatchObject({
      kind: 'voicemail',
      state: 'failed',
      bytes: 10,
    });
    expect(store.get('rec_00000000000000a3')).toMatchObject({
      kind: 'flow',
      state: 'interrupted',
      durationMs: null,
      bytes: 321,
    });
    db.close();
  });

  it('keeps nothing for a call it does not know, and never throws into the recording', () => {
    const { db, store, recordings } = open(':memory:', now);
    recordings.started({
      recordingId: 'rec_00000000000000b1',
      callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X',
      kind: 'call',
      format: 'ogg',
      path: '/x.ogg',
    });
    expect(store.get('rec_00000000000000b1')).toBeUndefined();
    db.close();
    // The store closed under it (a shutdown): logged, not thrown.
    expect(() => recordings.ended('rec_00000000000000b1', ended('rec_00000000000000b1'))).not.toThrow();
  });

  it('deletes the file and the row, with calls.recording.deleted; refuses one still recording', async () => {
    const { db, sink, store, recordings, calls } = open(':memory:', now);
    const call = calls.create(inbound);
    const file = join(dir, 'done.webm');
    writeFileSync(file, Buffer.alloc(64));
    recordings.started({
      recordingId: 'rec_00000000000000c1',
      callId: call.id,
      kind: 'call',
      format: 'webm',
      path: file,
    });
    expect(await recordings.remove('rec_00000000000000c1')).toBe('in_progress');
    expect(existsSync(file)).toBe(true);
    recordings.ended('rec_00000000000000c1', ended('rec_00000000000000c1', { bytes: 64 }));
    expect(await recordings.remove('rec_00000000000000c1')).toBe('removed');
    expect(existsSync(file)).toBe(false);
    expect(store.get('rec_00000000000000c1')).toBeUndefined();
    const deleted = sink.events.filter((e) => e.event === 'calls.recording.deleted');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({
      callId: call.id,
      data: {
        call: { id: call.id },
        recording: { id: 'rec_00000000000000c1', kind: 'call', format: 'webm', bytes: 64 },
      },
    });
    expect(JSON.stringify(deleted[0]?.data)).not.toContain(file);
    expect(await recordings.remove('rec_00000000000000c1')).toBe('not_found');

    // A file already gone is no error: the row still goes.
    recordings.started({
      recordingId: 'rec_00000000000000c2',
      callId: call.id,
      kind: 'call',
      format: 'webm',
      path: file,
    });
    recordings.ended('rec_00000000000000c2', ended('rec_00000000000000c2'));
    expect(await recordings.remove('rec_00000000000000c2')).toBe('removed');
    db.close();
  });
});

describe('a restart after a crash mid-recording', () => {
  it("turns recordings left 'recording' into 'interrupted', with the file's size and the time the gateway died", () => {
    const path = join(dir, 'gateway.db');
    const file = join(dir, 'cut-off.mp4');
    const first = open(path, now);
    const call = first.calls.create(inbound);
    first.recordings.started({
      recordingId: 'rec_00000000000000d1',
      callId: call.id,
      kind: 'call',
      format: 'mp4',
      path: file,
    });
    first.recordings.started({
      recordingId: 'rec_00000000000000d2',
      callId: call.id,
      kind: 'voicemail',
      format: 'mp4',
      path: join(dir, 'never-written.mp4'),
    });
    advance(2_000);
    new LivenessStore(first.db).beat(clock.toISOString());
    // ffmpeg finished what it had once its worker died with the gateway.
    writeFileSync(file, Buffer.alloc(4096));
    first.db.close();

    advance(60_000);
    const second = open(path, now);
    const recovery = new RestartRecovery({
      calls: second.calls,
      orphanedLegs: { find: () => [], end: async () => undefined },
      journal: { ended: () => undefined },
      liveness: new LivenessStore(second.db),
      rooms: { deleteRoom: async () => undefined },
      recordings: second.recordings,
      logger,
      now,
    } as unknown as RestartRecoveryDeps);
    recovery.recover();
    recovery.stop();
    expect(second.store.get('rec_00000000000000d1')).toMatchObject({
      state: 'interrupted',
      bytes: 4096,
      durationMs: null,
      endedAt: '2026-12-01T10:00:02.000Z',
    });
    expect(second.store.get('rec_00000000000000d2')).toMatchObject({ state: 'interrupted', bytes: 0 });
    expect(second.store.inProgress()).toEqual([]);
    // The call they were of ended too (gateway_restart), as before.
    expect(second.calls.get(call.id)).toMatchObject({ status: 'failed', endReason: 'gateway_restart' });
    second.db.close();
  });
});
