import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MediaCommandError,
  type MediaSession,
  type SessionClosedInfo,
  WorkerPool,
  type WorkerPoolOptions,
  workerEntryPath,
} from '../../src/media/workers/index.js';
import { LOOPBACK_BLOCK_URL, LOOPBACK_HANG_URL } from '../support/media/loopbackStandInUrls.js';
import { loopbackWorkerEntry } from '../support/media/loopbackWorkerEntry.js';
import { carrierOffer, g729OnlyOffer, reoffer, sippUacOffer } from '../unit/media-sdp/sdpOffers.js';

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

async function startPool(overrides: Partial<WorkerPoolOptions> = {}): Promise<WorkerPool> {
  const base = 40_000 + Math.floor(Math.random() * 100) * 200;
  const pool = new WorkerPool({
    entryFile: loopbackWorkerEntry(),
    workers: 2,
    portRange: { min: base, max: base + 199 },
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    codecs: ['opus', 'G722', 'PCMU', 'PCMA', 'telephone-event'],
    timeoutInitialSeconds: 30,
    timeoutSeconds: 15,
    maxSessionsPerWorker: 3,
    requestTimeoutMs: 5_000,
    ...overrides,
  });
  pools.push(pool);
  await pool.start();
  return pool;
}

async function rejection(promise: Promise<unknown>): Promise<MediaCommandError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MediaCommandError);
    return error as MediaCommandError;
  }
  throw new Error('expected a rejection');
}

function closedOf(session: MediaSession): Promise<SessionClosedInfo> {
  const info = session.closeInfo;
  if (info) return Promise.resolve(info);
  return once(session, 'closed').then(([closed]) => closed as SessionClosedInfo);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('WorkerPool over real worker processes', () => {
  it('places sessions on the least-loaded worker, answers with negotiated SDP, and frees every port', async () => {
    const pool = await startPool();
    const workers = pool.workers();
    expect(workers.map((w) => w.state)).toEqual(['ready', 'ready']);
    expect(workers[0]?.portRange.max).toBe((workers[1]?.portRange.min ?? 0) - 1);

    const sessions: MediaSession[] = [];
    const indexes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await pool.createSession({ remoteOffer: carrierOffer, callId: `call-${i}` });
      sessions.push(created.session);
      indexes.push(created.session.workerIndex);
      expect(created.type).toBe('answer');
      expect(created.media?.codec).toMatchObject({ name: 'PCMU', payloadType: 0 });
      expect(created.localSdp).toContain(`m=audio ${created.rtpPort} RTP/AVP 0 101`);
      const range = workers[created.session.workerIndex]?.portRange;
      expect(created.rtpPort).toBeGreaterThanOrEqual(range?.min ?? Number.NaN);
      expect(created.rtpPort).toBeLessThanOrEqual(range?.max ?? Number.NaN);
    }
    expect(indexes).toEqual([0, 1, 0, 1]);
    const statuses = await pool.workerStatuses();
    expect(statuses.map((s) => [s.workerIndex, s.sessions, s.portsInUse])).toEqual([
      [0, 2, 2],
      [1, 2, 2],
    ]);

    // The room freed on worker 1 is where the next session goes.
    await sessions[1]?.close();
    const next = await pool.createSession({ remoteOffer: sippUacOffer });
    expect(next.session.workerIndex).toBe(1);
    sessions.push(next.session);

    // Bounded at three per worker here.
    for (let i = 0; i < 2; i++)
      sessions.push((await pool.createSession({ remoteOffer: carrierOffer })).session);
    expect(pool.sessionCount).toBe(6);
    expect((await rejection(pool.createSession({ remoteOffer: carrierOffer }))).code).toBe('capacity');

    await Promise.all(sessions.map((s) => s.close()));
    expect(pool.sessionCount).toBe(0);
    for (const status of await pool.workerStatuses()) {
      expect(status).toMatchObject({ sessions: 0, portsInUse: 0 });
    }
  });

  it('refuses unacceptable and malformed offers with typed errors, leaking no port', async () => {
    const pool = await startPool({ workers: 1 });
    const refused = await rejection(pool.createSession({ remoteOffer: g729OnlyOffer }));
    expect(refused.code).toBe('sdp_not_acceptable');
    expect(refused.method).toBe('createSession');
    expect((await rejection(pool.createSession({ remoteOffer: 'v=0\r\nnonsense' }))).code).toBe(
      'sdp_malformed',
    );
    expect(pool.sessionCount).toBe(0);
    expect(await pool.workerStatuses()).toMatchObject([{ sessions: 0, portsInUse: 0 }]);
  });

  it('carries commands and events: RTP echo and firstPacket, re-INVITE hold, DTMF, playback, outbound offer/answer', async () => {
    const pool = await startPool({ workers: 1 });
    const { session, rtpPort } = await pool.createSession({ remoteOffer: carrierOffer });

    const peer = createSocket('udp4');
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const firstPacket = once(session, 'firstPacket');
    const echo = once(peer, 'message');
    peer.send(Buffer.from([0x80, 0x00, 0x00, 0x01]), rtpPort, '127.0.0.1');
    const [event] = await firstPacket;
    expect(event).toMatchObject({
      sessionId: session.id,
      from: { address: '127.0.0.1', port: peer.address().port },
    });
    const [echoed] = await echo;
    expect([...(echoed as Buffer)]).toEqual([0x80, 0x00, 0x00, 0x01]);
    peer.close();

    const held = await session.answerOffer(reoffer(carrierOffer, 2, 'sendonly'));
    expect(held.media.direction).toBe('recvonly');
    expect(held.localSdp).toContain(`m=audio ${rtpPort} `);
    expect(held.localSdp).toMatch(/^o=- \d+ 2 IN IP4 127\.0\.0\.1/m);

    const ourHold = await session.hold(true);
    expect(ourHold.localSdp).toContain('a=sendonly');
    const applied = await session.applyRemoteAnswer(reoffer(carrierOffer, 3, 'recvonly'));
    expect(applied.media.direction).toBe('sendonly');

    const digits: string[] = [];
    session.on('dtmf', (dtmf) => digits.push(dtmf.digit));
    const lastDigit = once(session, 'dtmf');
    await session.sendDtmf('1');
    await lastDigit;
    expect(digits).toEqual(['1']);

    const ended = once(session, 'playbackEnded');
    const { playbackId } = await session.play({
      source: { kind: 'tone', frequencyHz: 440, durationMs: 100 },
      target: 'sip',
      loop: false,
    });
    expect((await ended)[0]).toMatchObject({ playbackId, reason: 'finished' });

    await expect(
      session.connectRoom({
        url: 'ws://127.0.0.1:7880',
        token: 't',
        roomName: 'r',
        identity: 'sip_x',
        attributes: {},
      }),
    ).resolves.toEqual({ participantSid: null });

    const outbound = await pool.createSession({ remoteOffer: null });
    expect(outbound.type).toBe('offer');
    expect(outbound.media).toBeNull();
    const media = await outbound.session.applyRemoteAnswer(sippUacOffer);
    expect(media.media.codec.name).toBe('PCMU');
    expect((await rejection(outbound.session.applyRemoteAnswer(sippUacOffer))).code).toBe('sdp_state');

    await session.close();
    await outbound.session.close();
    expect((await rejection(session.hold(false))).code).toBe('session_not_found');
    expect(await pool.workerStatuses()).toMatchObject([{ sessions: 0, portsInUse: 0 }]);
  });

  it('times a request out when the worker does not answer, and the session carries on', async () => {
    const pool = await startPool({ workers: 1, requestTimeoutMs: 300 });
    const { session } = await pool.createSession({ remoteOffer: carrierOffer });
    const started = Date.now();
    const error = await rejection(
      session.play({ source: { kind: 'url', url: LOOPBACK_HANG_URL }, target: 'sip', loop: false }),
    );
    expect(error.code).toBe('timeout');
    expect(error.method).toBe('play');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const again = await session.answerOffer(reoffer(carrierOffer, 2, 'sendrecv'));
    expect(again.media.direction).toBe('sendrecv');
    await session.close();
  });

  it('kill -9 of a worker ends only its sessions with media_error; the other keeps working; a replacement starts', async () => {
    const pool = await startPool();
    const sessions: MediaSession[] = [];
    for (let i = 0; i < 4; i++)
      sessions.push((await pool.createSession({ remoteOffer: carrierOffer })).session);
    const onDead = sessions.filter((s) => s.workerIndex === 0);
    const onLive = sessions.filter((s) => s.workerIndex === 1);
    expect(onDead).toHaveLength(2);
    const deadPid = pool.workers()[0]?.pid ?? -1;
    const poolClosed: string[] = [];
    pool.on('sessionClosed', (event) => poolClosed.push(`${event.sessionId}:${event.reason}`));

    // A request in flight when the worker dies is rejected, not left hanging.
    const inFlight = rejection(
      onDead[0]?.play({ source: { kind: 'url', url: LOOPBACK_HANG_URL }, target: 'sip', loop: false }) ??
        Promise.resolve(),
    );
    const died = once(pool, 'workerDied');
    const replaced = once(pool, 'workerStarted');
    const closed = Promise.all(onDead.map(closedOf));
    process.kill(deadPid, 'SIGKILL');

    const [diedEvent] = await died;
    expect(diedEvent).toMatchObject({ index: 0, pid: deadPid, cause: 'crashed', signal: 'SIGKILL' });
    expect([...diedEvent.sessionIds].sort()).toEqual(onDead.map((s) => s.id).sort());
    for (const info of await closed) expect(info.reason).toBe('media_error');
    expect(poolClosed.sort()).toEqual(onDead.map((s) => `${s.id}:media_error`).sort());
    expect((await inFlight).code).toBe('worker_died');

    // The other worker's sessions carry on.
    for (const session of onLive) {
      expect(session.closed).toBe(false);
      const { media } = await session.answerOffer(reoffer(carrierOffer, 2, 'sendonly'));
      expect(media.direction).toBe('recvonly');
    }

    const [started] = await replaced;
    expect(started.index).toBe(0);
    expect(started.pid).not.toBe(deadPid);
    expect(isAlive(deadPid)).toBe(false);
    // The replacement is empty, so it is the least loaded, and it owns the same port slice.
    const fresh = await pool.createSession({ remoteOffer: carrierOffer });
    expect(fresh.session.workerIndex).toBe(0);
    expect(await pool.workerStatuses()).toMatchObject([
      { workerIndex: 0, pid: started.pid, sessions: 1, portsInUse: 1 },
      { workerIndex: 1, sessions: 2, portsInUse: 2 },
    ]);

    await Promise.all([...onLive, fresh.session].map((s) => s.close()));
    for (const status of await pool.workerStatuses())
      expect(status).toMatchObject({ sessions: 0, portsInUse: 0 });
  });

  it('closes gracefully: open sessions end with shutdown and every worker process exits', async () => {
    const pool = await startPool();
    const a = (await pool.createSession({ remoteOffer: carrierOffer })).session;
    const b = (await pool.createSession({ remoteOffer: carrierOffer })).session;
    const pids = pool.workers().map((w) => w.pid ?? -1);
    const closed = Promise.all([closedOf(a), closedOf(b)]);
    await pool.close();
    expect((await closed).map((info) => info.reason)).toEqual(['shutdown', 'shutdown']);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(pool.workers().map((w) => w.state)).toEqual(['restarting', 'restarting']);
    expect((await rejection(pool.createSession({ remoteOffer: carrierOffer }))).code).toBe('worker_closed');
  });

  it('with a profile folder, each worker writes a V8 CPU profile of its run as it exits', async () => {
    const profileDir = mkdtempSync(join(tmpdir(), 'worker-profiles-'));
    try {
      const pool = await startPool({ profileDir });
      const pids = pool.workers().map((w) => w.pid ?? -1);
      await pool.createSession({ remoteOffer: carrierOffer });
      await pool.close();
      const files = readdirSync(profileDir);
      for (const pid of pids) {
        const file = files.find((name) => name.includes(`.${pid}.`) && name.endsWith('.cpuprofile'));
        expect(file, `profile of worker ${pid} in ${files.join(', ')}`).toBeDefined();
        const profile = JSON.parse(readFileSync(join(profileDir, file as string), 'utf8')) as {
          samples: number[];
        };
        expect(profile.samples.length).toBeGreaterThan(0);
      }
    } finally {
      rmSync(profileDir, { recursive: true, force: true });
    }
  });

  it('spreads concurrent creates across workers before any answer returns', async () => {
    const pool = await startPool({ maxSessionsPerWorker: 2 });
    const created = await Promise.all(
      Array.from({ length: 4 }, () => pool.createSession({ remoteOffer: carrierOffer })),
    );
    expect(created.map((c) => c.session.workerIndex).sort()).toEqual([0, 0, 1, 1]);
    expect(new Set(created.map((c) => c.rtpPort)).size).toBe(4);
    await Promise.all(created.map((c) => c.session.close()));
  });

  it('fails to start, leaving no process behind, when the entry file is missing', async () => {
    const pool = new WorkerPool({
      entryFile: workerEntryPath('noSuchWorkerEntry.js'),
      workers: 2,
      portRange: { min: 47000, max: 47099 },
      bindAddress: '127.0.0.1',
      advertisedAddress: '127.0.0.1',
      codecs: ['PCMU'],
      timeoutInitialSeconds: 30,
      timeoutSeconds: 15,
      maxSessionsPerWorker: 1,
    });
    const error = await rejection(pool.start());
    expect(error.code).toBe('internal');
    expect(error.message).toMatch(/noSuchWorkerEntry\.js does not exist/);
    expect(pool.workers().map((w) => w.pid)).toEqual([null, null]);
  });

  it('a worker whose main process is killed closes its sessions and exits', async () => {
    const poolModule = pathToFileURL(workerEntryPath('WorkerPool.js')).href;
    const entry = loopbackWorkerEntry();
    const script = `
      const { WorkerPool } = await import(${JSON.stringify(poolModule)});
      const pool = new WorkerPool({ entryFile: ${JSON.stringify(entry)}, workers: 1,
        portRange: { min: 47100, max: 47199 }, bindAddress: '127.0.0.1', advertisedAddress: '127.0.0.1',
        codecs: ['PCMU'], timeoutInitialSeconds: 30, timeoutSeconds: 15, maxSessionsPerWorker: 5 });
      await pool.start();
      await pool.createSession({ remoteOffer: null });
      process.stdout.write(JSON.stringify({ worker: pool.workers()[0].pid }) + '\\n');
    `;
    const main = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(main.stdout, 'data')) as [Buffer];
    const { worker } = JSON.parse(line.toString()) as { worker: number };
    expect(isAlive(worker)).toBe(true);
    main.kill('SIGKILL');
    await once(main, 'exit');
    // Not our child, so no exit event to wait on: watch the pid until it is gone.
    const deadline = Date.now() + 5_000;
    while (isAlive(worker) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(isAlive(worker)).toBe(false);
  });

  it('kills a worker that stops answering health checks and ends its sessions with media_error', async () => {
    const pool = await startPool({ healthCheck: { intervalMs: 100, timeoutMs: 200 } });
    const stuck = (await pool.createSession({ remoteOffer: carrierOffer })).session;
    const healthy = (await pool.createSession({ remoteOffer: carrierOffer })).session;
    expect([stuck.workerIndex, healthy.workerIndex]).toEqual([0, 1]);
    const died = once(pool, 'workerDied');
    const replaced = once(pool, 'workerStarted');
    const closed = closedOf(stuck);
    await stuck.play({ source: { kind: 'url', url: LOOPBACK_BLOCK_URL }, target: 'sip', loop: false });
    const [event] = await died;
    expect(event).toMatchObject({
      index: 0,
      cause: 'unresponsive',
      signal: 'SIGKILL',
      sessionIds: [stuck.id],
    });
    expect(await closed).toMatchObject({ reason: 'media_error' });
    expect(healthy.closed).toBe(false);
    expect((await healthy.answerOffer(reoffer(carrierOffer, 2, 'inactive'))).media.direction).toBe(
      'inactive',
    );
    expect((await replaced)[0].index).toBe(0);
    await healthy.close();
  });

  it('restarts a slot at once after a first death, and backs off when replacements keep dying', async () => {
    const pool = await startPool({ workers: 1, restartBackoffMs: { initial: 300, max: 1_000 } });
    const first = pool.workers()[0]?.pid ?? -1;
    let died = once(pool, 'workerDied');
    let started = once(pool, 'workerStarted');
    process.kill(first, 'SIGKILL');
    await died;
    const [second] = await started;
    // The replacement died young, so the next one waits for the backoff.
    died = once(pool, 'workerDied');
    started = once(pool, 'workerStarted');
    process.kill(second.pid, 'SIGKILL');
    await died;
    const diedAt = Date.now();
    const [third] = await started;
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(290);
    expect(third.pid).not.toBe(second.pid);
    const { session } = await pool.createSession({ remoteOffer: carrierOffer });
    expect(session.workerIndex).toBe(0);
    await session.close();
  });

  it('a session the worker ends itself (media timeout) is reported closed once, with its port freed', async () => {
    const pool = await startPool({ workers: 1, timeoutInitialSeconds: 1 });
    const { session } = await pool.createSession({ remoteOffer: carrierOffer });
    const timeout = once(session, 'mediaTimeout');
    const poolClosed = once(pool, 'sessionClosed');
    const closed = closedOf(session);
    const [event] = await timeout;
    expect(event).toMatchObject({ sessionId: session.id, phase: 'initial' });
    expect(event.silentMs).toBeGreaterThanOrEqual(1000);
    // Production's wording (RtpMediaSession and the stand-in share mediaTimeoutMessage).
    expect(await closed).toMatchObject({
      reason: 'media_timeout',
      message: expect.stringMatching(/^no RTP for 1\.\d s$/),
    });
    expect((await poolClosed)[0]).toMatchObject({ sessionId: session.id, reason: 'media_timeout' });
    expect(pool.sessionCount).toBe(0);
    expect(await pool.workerStatuses()).toMatchObject([{ sessions: 0, portsInUse: 0 }]);
    await expect(session.close()).resolves.toBeNull();
  });

  it("one session's throwing listener does not stop the others closing or the worker restarting", async () => {
    const pool = await startPool({ workers: 1 });
    const faulty = (await pool.createSession({ remoteOffer: carrierOffer })).session;
    const other = (await pool.createSession({ remoteOffer: carrierOffer })).session;
    faulty.on('closed', () => {
      throw new Error('listener bug');
    });
    const closed = closedOf(other);
    const replaced = once(pool, 'workerStarted');
    process.kill(pool.workers()[0]?.pid ?? -1, 'SIGKILL');
    expect(await closed).toMatchObject({ reason: 'media_error' });
    expect(faulty.closed).toBe(true);
    await replaced;
    expect(pool.sessionCount).toBe(0);
  });
});
