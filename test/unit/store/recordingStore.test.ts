import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallRecordings } from '../../../src/calls/callRecordings.js';
import { CallService } from '../../../src/calls/callService.js';
import type { NewCall } from '../../../src/calls/callServiceTypes.js';
import { CallStore } from '../../../src/calls/callStore.js';
import type { Call } from '../../../src/calls/callTypes.js';
import { RestartRecovery, type RestartRecoveryDeps } from '../../../src/calls/restartRecovery.js';
import type { RecordingEndedEvent } from '../../../src/media/workers/mediaChannelTypes.js';
import { LivenessStore } from '../../../src/store/livenessStore.js';
import { migrations } from '../../../src/store/migrations.js';
import { type NewRecording, RecordingStore } from '../../../src/store/recordingStore.js';
import type { SqlStore } from '../../../src/store/sql/sqlTypes.js';
import { type StoreEngine, storeEngines } from '../../support/storeEngines.js';
import { storeOnlyEvents } from '../../support/storeOnlyEvents.js';

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

type SeenEvent = { event: string; callId: string; data: Record<string, unknown> };

/** One gateway process's view of a database: what a restart opens anew. */
function open(db: SqlStore, now: () => Date) {
  const seen: SeenEvent[] = [];
  const sink = { events: seen };
  const events = storeOnlyEvents(db, (event) => seen.push(event));
  const store = new RecordingStore(db);
  const lookups = {
    get: (id: string): Call | undefined => calls.get(id),
    find: (id: string): Promise<Call | undefined> => calls.find(id),
  };
  const recordings = new CallRecordings({ store, calls: lookups, events, logger, now });
  const calls: CallService = new CallService({ store: new CallStore(db), events, logger, now, recordings });
  return { db, sink, store, recordings, calls };
}

/** Polls `check` until it holds (the store's writes and reads are asynchronous). */
async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves once every write handed over so far is committed. */
const committed = (db: SqlStore) => db.write([]);

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

describe.each(storeEngines())('recordings on $name', (engine: StoreEngine) => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'recording-store-'));
    clock = new Date('2026-12-01T10:00:00.000Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => engine.dispose());

  describe('RecordingStore', () => {
    let db: SqlStore;
    let store: RecordingStore;
    beforeEach(async () => {
      db = await engine.open();
      store = new RecordingStore(db);
    }, 30_000);
    afterEach(() => db.close());
    const write = (...statements: Parameters<SqlStore['write']>[0]) => db.write(statements);

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

    it('is migration 9: a recording is written as recording, then ended once', async () => {
      expect(migrations.find((m) => m.name === 'recordings')?.version).toBe(9);
      await write(store.insert(row('rec_0000000000000001')));
      expect(await store.get('rec_0000000000000001')).toEqual({
        ...row('rec_0000000000000001'),
        state: 'recording',
        durationMs: null,
        bytes: null,
        endedAt: null,
      });
      expect((await store.inProgress()).map((r) => r.id)).toEqual(['rec_0000000000000001']);
      const end = {
        state: 'completed',
        durationMs: 5000,
        bytes: 777,
        endedAt: '2026-12-01T10:00:05.000Z',
      } as const;
      await write(store.end('rec_0000000000000001', end));
      // An end is final: a second one (a late report) changes nothing.
      await write(store.end('rec_0000000000000001', { ...end, state: 'interrupted', bytes: 1 }));
      expect(await store.get('rec_0000000000000001')).toMatchObject({
        state: 'completed',
        bytes: 777,
        durationMs: 5000,
      });
      expect(await store.inProgress()).toEqual([]);
    });

    it('refuses a kind or state the schema does not know', async () => {
      await expect(
        write(store.insert(row('rec_0000000000000001', { kind: 'other' as never }))),
      ).rejects.toThrow(/CHECK|check constraint/);
    });

    it('lists newest first, filtered by app, call and kind, paged after a cursor (ties broken by id)', async () => {
      const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString();
      await write(
        store.insert(row('rec_0000000000000001', { startedAt: at(1) })),
        store.insert(row('rec_0000000000000002', { startedAt: at(2), kind: 'voicemail' })),
        store.insert(row('rec_0000000000000003', { startedAt: at(2) })),
        store.insert(row('rec_0000000000000004', { startedAt: at(3), appId: OTHER_APP })),
        store.insert(
          row('rec_0000000000000005', { startedAt: at(4), callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y' }),
        ),
      );
      const ids = (list: { id: string }[]) => list.map((r) => r.id.slice(-1));
      expect(ids(await store.list({ limit: 10 }))).toEqual(['5', '4', '3', '2', '1']);
      expect(ids(await store.list({ appId: APP, limit: 10 }))).toEqual(['5', '3', '2', '1']);
      expect(ids(await store.list({ appId: APP, kind: 'voicemail', limit: 10 }))).toEqual(['2']);
      expect(ids(await store.list({ callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1Y', limit: 10 }))).toEqual(['5']);
      const first = await store.list({ appId: APP, limit: 2 });
      expect(ids(first)).toEqual(['5', '3']);
      const second = await store.list({
        appId: APP,
        after: first[1] as { id: string; startedAt: string },
        limit: 2,
      });
      expect(ids(second)).toEqual(['2', '1']);
    });

    it('removes a recording', async () => {
      await write(store.insert(row('rec_0000000000000001')));
      await write(store.remove('rec_0000000000000001'));
      expect(await store.get('rec_0000000000000001')).toBeUndefined();
    });
  });

  describe('CallRecordings', () => {
    it("keeps a recording under its call's app from start to end: completed, failed, or interrupted with the file's size", async () => {
      const { db, store, recordings, calls } = open(await engine.open(), now);
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
      await committed(db);
      expect(await store.get('rec_00000000000000a1')).toMatchObject({
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
      await until(async () => (await store.inProgress()).length === 0);
      expect(await store.get('rec_00000000000000a1')).toMatchObject({
        state: 'completed',
        durationMs: 4_020,
        bytes: 1234,
        endedAt: '2026-12-01T10:00:04.000Z',
      });
      expect(await store.get('rec_00000000000000a2')).toMatchObject({
        kind: 'voicemail',
        state: 'failed',
        bytes: 10,
      });
      expect(await store.get('rec_00000000000000a3')).toMatchObject({
        kind: 'flow',
        state: 'interrupted',
        durationMs: null,
        bytes: 321,
      });
      await db.close();
    });

    it('keeps nothing for a call it does not know, and never throws into the recording', async () => {
      const { db, store, recordings } = open(await engine.open(), now);
      recordings.started({
        recordingId: 'rec_00000000000000b1',
        callId: 'call_2ZrQ8mWJvQpO8F0pQd3yZ8uYw1X',
        kind: 'call',
        format: 'ogg',
        path: '/x.ogg',
      });
      expect(await store.get('rec_00000000000000b1')).toBeUndefined();
      await db.close();
      // The store closed under it (a shutdown): logged, not thrown.
      expect(() => recordings.ended('rec_00000000000000b1', ended('rec_00000000000000b1'))).not.toThrow();
    });

    it('deletes the file and the row, with calls.recording.deleted; refuses one still recording', async () => {
      const { db, sink, store, recordings, calls } = open(await engine.open(), now);
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
      await until(async () => (await store.get('rec_00000000000000c1'))?.state === 'completed');
      expect(await recordings.remove('rec_00000000000000c1')).toBe('removed');
      expect(existsSync(file)).toBe(false);
      expect(await store.get('rec_00000000000000c1')).toBeUndefined();
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
      await until(async () => (await store.get('rec_00000000000000c2'))?.state === 'completed');
      expect(await recordings.remove('rec_00000000000000c2')).toBe('removed');
      await db.close();
    });
  });

  describe('a restart after a crash mid-recording', () => {
    it("turns recordings left 'recording' into 'interrupted', with the file's size and the time the gateway died", async () => {
      const file = join(dir, 'cut-off.mp4');
      const first = open(await engine.open(), now);
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
      await first.db.close();

      advance(60_000);
      const second = open(await engine.reopen(), now);
      const recovery = new RestartRecovery({
        calls: second.calls,
        orphanedLegs: { find: async () => [], end: async () => undefined },
        journal: { ended: () => undefined },
        liveness: new LivenessStore(second.db),
        rooms: { deleteRoom: async () => undefined },
        recordings: second.recordings,
        logger,
        now,
      } as unknown as RestartRecoveryDeps);
      await recovery.recover();
      recovery.stop();
      await committed(second.db);
      expect(await second.store.get('rec_00000000000000d1')).toMatchObject({
        state: 'interrupted',
        bytes: 4096,
        durationMs: null,
        endedAt: '2026-12-01T10:00:02.000Z',
      });
      expect(await second.store.get('rec_00000000000000d2')).toMatchObject({
        state: 'interrupted',
        bytes: 0,
      });
      expect(await second.store.inProgress()).toEqual([]);
      // The call they were of ended too (gateway_restart), as before.
      expect(await second.calls.find(call.id)).toMatchObject({
        status: 'failed',
        endReason: 'gateway_restart',
      });
      await second.db.close();
    });
  });
});
