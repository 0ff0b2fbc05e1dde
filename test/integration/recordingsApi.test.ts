import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutboxEvent as OutboxEvent } from '../../src/control/events/outboxTypes.js';
import { RTP_WORKER_ENTRY, workerEntryPath } from '../../src/media/workers/workerEntryPath.js';
import { api, callGatewayConfig, ROUTED_NUMBER, until } from '../support/gatewayApi.js';
import { type RunningGateway, startInProcessGateway } from '../support/inProcessGateway.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { probeRecording } from '../support/recordingFiles.js';
import { RtpPeer } from '../support/rtpPeer.js';
import { type SipEngineProcess, startSipEngine } from '../support/sipEngineProcess.js';
import { assertAllCallsSucceeded, runSipp } from '../support/sipp.js';
import { bearer, KEYS, TEST_APP_ID } from '../support/testKeys.js';

/**
 * The recordings read API end to end: a real SIP caller (sipp) recorded whole (autoRecordEnabled)
 * by a real media worker with ffmpeg, then listed, fetched (whole and by byte ranges) and deleted
 * through the REST API, with app keys that may and may not see it.
 */
let engine: SipEngineProcess;
let rig: LiveKitRig;
let gw: RunningGateway;
let files: string;
let recordingDir: string;

beforeAll(async () => {
  files = mkdtempSync(join(tmpdir(), 'recordings-api-'));
  recordingDir = join(files, 'recordings');
  engine = await startSipEngine();
  rig = await startLiveKit();
  gw = await startInProcessGateway(callGatewayConfig(engine, rig, { recording: { dir: recordingDir } }), {
    mediaWorkerEntry: workerEntryPath(RTP_WORKER_ENTRY),
  });
  await until(async () => (await api(gw, '/readyz')).ready === true, 60_000);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([engine?.stop(), rig?.server.stop()]);
  rmSync(files, { recursive: true, force: true });
});

/** Resolves with the first outbox event `name` (of `callId`, if given), now or once appended. */
function outboxEvent(name: string, callId?: string, timeoutMs = 30_000): Promise<OutboxEvent> {
  const { outbox } = gw.gateway.events;
  return new Promise((resolve, reject) => {
    let done = false;
    const find = async (): Promise<void> => {
      const found = (await outbox.unackedAfter(0, 100_000)).find(
        (event) => event.event === name && (callId === undefined || event.callId === callId),
      );
      if (!found || done) return;
      stop();
      resolve(found as OutboxEvent);
    };
    const unsubscribe = outbox.onAppend(() => void find());
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = (): void => {
      done = true;
      unsubscribe();
      clearTimeout(timer);
    };
    void find();
  });
}

/** A request to the gateway with `key`; the response with its body read as bytes. */
async function request(
  path: string,
  key: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: Buffer; json: () => any }> {
  const response = await fetch(`${gw.url}${path}`, { ...init, headers: { ...bearer(key), ...init.headers } });
  const body = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    headers: response.headers,
    body,
    json: () => JSON.parse(body.toString()),
  };
}

const errorCode = (response: { json: () => any }) => response.json().error.code;

describe('the recordings API', () => {
  it('lists, serves by ranges and deletes a recorded call, for its own app only', async () => {
    await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({
        voicemailEnabled: false,
        defaultAnswerBehavior: 'webhook',
        autoRecordEnabled: true,
        recordingFormat: 'mp4',
      }),
    });
    const peer = await RtpPeer.open('PCMU', { latch: true });
    peer.start({ frequencyHz: 600, amplitude: 0.3 });
    const ringing = outboxEvent('calls.ringing');
    const sipp = runSipp({
      scenario: 'uac-rtp-peer-hangup',
      target: { host: '127.0.0.1', port: engine.sipPort },
      transport: 'u1',
      service: ROUTED_NUMBER,
      keys: { rtpport: peer.port },
      pauseMs: 4_000,
      calls: 1,
      hardTimeoutMs: 60_000,
    });
    const callId = (await ringing).callId;
    const completed = outboxEvent('calls.recording.completed', callId);
    const accepted = await api(gw, `/v1/calls/${callId}/actions`, {
      method: 'POST',
      body: '{"action":"accept"}',
    });
    expect(accepted.status).toBe('in_progress');

    // While it records: listed as recording, its media and its deletion refused (409).
    let live: any;
    await until(async () => {
      live = (await request(`/v1/recordings?callId=${callId}`, KEYS.app)).json().data[0];
      return live !== undefined;
    });
    expect(live).toMatchObject({ callId, kind: 'call', format: 'mp4', state: 'recording', bytes: null });
    const busy = await request(`/v1/recordings/${live.id}/media`, KEYS.app);
    expect([busy.status, errorCode(busy)]).toEqual([409, 'recording_in_progress']);
    const busyDelete = await request(`/v1/recordings/${live.id}`, KEYS.app, { method: 'DELETE' });
    expect([busyDelete.status, errorCode(busyDelete)]).toEqual([409, 'recording_in_progress']);

    assertAllCallsSucceeded(await sipp, 1);
    peer.close();
    const event = (await completed).data as any;
    const id: string = event.recording.id;
    expect(id).toBe(live.id);
    const path: string = event.recording.path;
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(1000);

    // Listed for its app's key (newest first), with no file system path; not for another app's.
    const list = await request('/v1/recordings', KEYS.app);
    expect(list.status).toBe(200);
    const listed = list.json();
    expect(listed.data[0]).toEqual({
      id,
      callId,
      appId: TEST_APP_ID,
      kind: 'call',
      format: 'mp4',
      state: 'completed',
      durationMs: expect.any(Number),
      bytes: size,
      startedAt: expect.any(String),
      endedAt: expect.any(String),
      mediaUrl: `/v1/recordings/${id}/media`,
    });
    expect(listed.data[0].durationMs).toBeGreaterThan(2_000);
    expect(list.body.toString()).not.toContain(recordingDir);
    const others = (await request('/v1/recordings', KEYS.otherApp)).json();
    expect(others.data.map((r: any) => r.id)).not.toContain(id);
    expect((await request('/v1/recordings?kind=voicemail', KEYS.app)).json().data).toEqual([]);

    // By id: its own app's key and the admin key; another app's key gets 404, as for no recording.
    const own = await request(`/v1/recordings/${id}`, KEYS.app);
    expect([own.status, own.json()]).toEqual([200, listed.data[0]]);
    expect((await request(`/v1/recordings/${id}`, KEYS.admin)).json().id).toBe(id);
    const foreign = await request(`/v1/recordings/${id}`, KEYS.otherApp);
    expect([foreign.status, errorCode(foreign)]).toEqual([404, 'recording_not_found']);
    const unknown = await request('/v1/recordings/rec_0123456789abcdef', KEYS.app);
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'recording_not_found']);
    expect((await request('/v1/recordings/not-a-recording', KEYS.app)).status).toBe(400);
    const foreignMedia = await request(`/v1/recordings/${id}/media`, KEYS.otherApp);
    expect([foreignMedia.status, errorCode(foreignMedia)]).toEqual([404, 'recording_not_found']);

    // The whole file: audio/mp4, every byte, a file ffprobe opens as the AAC in mp4 it is.
    const whole = await request(`/v1/recordings/${id}/media`, KEYS.app);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/mp4');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-length')).toBe(String(size));
    expect(whole.body.equals(readFileSync(path))).toBe(true);
    const downloaded = join(files, 'downloaded.mp4');
    writeFileSync(downloaded, whole.body);
    const info = await probeRecording(downloaded);
    expect(info.format.format_name).toContain('mp4');
    expect(info.streams[0]?.codec_name).toBe('aac');
    expect(Number(info.format.duration)).toBeGreaterThan(2);

    // HEAD: the same headers, no body.
    const head = await request(`/v1/recordings/${id}/media`, KEYS.app, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(size));
    expect(head.headers.get('content-type')).toBe('audio/mp4');
    expect(head.body.length).toBe(0);

    // Byte ranges: the first 100 bytes, the last 50, and one past the end.
    const first = await request(`/v1/recordings/${id}/media`, KEYS.app, { headers: { range: 'bytes=0-99' } });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-99/${size}`);
    expect(first.headers.get('content-length')).toBe('100');
    expect(first.headers.get('content-type')).toBe('audio/mp4');
    expect(first.body.equals(whole.body.subarray(0, 100))).toBe(true);
    const last = await request(`/v1/recordings/${id}/media`, KEYS.app, { headers: { range: 'bytes=-50' } });
    expect(last.status).toBe(206);
    expect(last.headers.get('content-range')).toBe(`bytes ${size - 50}-${size - 1}/${size}`);
    expect(last.body.equals(whole.body.subarray(size - 50))).toBe(true);
    const rest = await request(`/v1/recordings/${id}/media`, KEYS.app, {
      headers: { range: `bytes=${size - 10}-` },
    });
    expect([rest.status, rest.body.length]).toEqual([206, 10]);
    const beyond = await request(`/v1/recordings/${id}/media`, KEYS.app, {
      headers: { range: `bytes=${size}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
    expect(errorCode(beyond)).toBe('range_not_satisfiable');

    // A file gone from disk (removed by hand) is a 404 of its own.
    renameSync(path, `${path}.away`);
    const missing = await request(`/v1/recordings/${id}/media`, KEYS.app);
    expect([missing.status, errorCode(missing)]).toEqual([404, 'recording_media_not_found']);
    renameSync(`${path}.away`, path);

    // Another app's key cannot delete it (404, and the file stays); its own app's key can.
    const foreignDelete = await request(`/v1/recordings/${id}`, KEYS.otherApp, { method: 'DELETE' });
    expect([foreignDelete.status, errorCode(foreignDelete)]).toEqual([404, 'recording_not_found']);
    expect(existsSync(path)).toBe(true);
    const deletedEvent = outboxEvent('calls.recording.deleted', callId);
    const deleted = await request(`/v1/recordings/${id}`, KEYS.app, { method: 'DELETE' });
    expect([deleted.status, deleted.body.length]).toEqual([204, 0]);
    expect(existsSync(path)).toBe(false);
    expect((await deletedEvent).data).toMatchObject({
      call: { id: callId },
      recording: { id, kind: 'call' },
    });
    expect((await request('/v1/recordings', KEYS.app)).json().data.map((r: any) => r.id)).not.toContain(id);
    expect((await request(`/v1/recordings/${id}`, KEYS.app)).status).toBe(404);
    const gone = await request(`/v1/recordings/${id}/media`, KEYS.app);
    expect([gone.status, errorCode(gone)]).toEqual([404, 'recording_not_found']);
    expect((await request(`/v1/recordings/${id}`, KEYS.app, { method: 'DELETE' })).status).toBe(404);

    await api(gw, `/v1/organization/apps/${TEST_APP_ID}/calling`, {
      method: 'PUT',
      body: JSON.stringify({ autoRecordEnabled: false }),
    });
  });
});
