import { readFileSync } from 'node:fs';
import { dispose, type Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveKitTokens } from '../../src/livekit/liveKitTokens.js';
import { RTP_WORKER_ENTRY } from '../../src/media/session/rtpWorkerEntryName.js';
import { type MediaSession, WorkerPool, workerEntryPath } from '../../src/media/workers/index.js';
import { joinRoom, publishTone } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { RtpPeer } from '../support/rtpPeer.js';

/**
 * Not part of `npm test` (MEDIA_CPU=1 turns it on): CPU of one media worker per call, read from
 * /proc over a few seconds of calls that carry a tone both ways.
 */
const enabled = process.env.MEDIA_CPU === '1';
const CALLS = Number(process.env.MEDIA_CPU_CALLS ?? 10);
const SECONDS = 10;

let rig: LiveKitRig;
let pool: WorkerPool;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe.runIf(enabled)('media worker CPU per call', () => {
  beforeAll(async () => {
    rig = await startLiveKit();
    pool = new WorkerPool({
      entryFile: workerEntryPath(RTP_WORKER_ENTRY),
      workers: 1,
      portRange: { min: 29_000, max: 29_999 },
      bindAddress: '127.0.0.1',
      advertisedAddress: '127.0.0.1',
      codecs: ['PCMU', 'telephone-event'],
      timeoutInitialSeconds: 30,
      timeoutSeconds: 15,
      maxSessionsPerWorker: 100,
    });
    await pool.start();
  });
  afterAll(async () => {
    await pool?.close();
    await dispose();
    await rig?.server.stop();
  });

  it.each([false, true])('PCMU calls, room joined with a talking agent: %s', async (withRoom) => {
    const roomService = new RoomServiceClient(rig.server.httpUrl, rig.apiKey, rig.apiSecret);
    const peers: RtpPeer[] = [];
    const sessions: MediaSession[] = [];
    const agents: Room[] = [];
    const tones: { stop: () => Promise<void> }[] = [];
    const joins: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const peer = await RtpPeer.open('PCMU');
      const created = await pool.createSession({ remoteOffer: peer.offer(), callId: `cpu_${i}` });
      peer.useRemoteSdp(created.localSdp);
      peer.start({ frequencyHz: 1000, amplitude: 0.3 });
      if (withRoom) {
        const roomName = `cpu-${i}-${Date.now()}`;
        await roomService.createRoom({ name: roomName });
        const token = await new LiveKitTokens(rig).participantToken({
          room: roomName,
          identity: `sip_cpu_${i}`,
          ttlSeconds: 600,
        });
        const joinStarted = performance.now();
        await created.session.connectRoom(
          { url: rig.url, token, roomName, identity: `sip_cpu_${i}`, attributes: {} },
          30_000,
        );
        joins.push(Math.round(performance.now() - joinStarted));
        const agent = await joinRoom(rig, roomName, `agent_${i}`);
        agents.push(agent);
        tones.push(await publishTone(agent, { frequencyHz: 440, amplitude: 0.3 }));
      }
      peers.push(peer);
      sessions.push(created.session);
    }
    await peers[0]?.untilAudioPackets(100);
    const pid = pool.workers()[0]?.pid as number;
    const before = cpuSeconds(pid);
    const started = performance.now();
    await peers[0]?.untilAudioPackets(SECONDS * 50);
    const elapsed = (performance.now() - started) / 1000;
    const used = cpuSeconds(pid) - before;
    console.info(
      `${CALLS} calls (room: ${withRoom}): worker CPU ${((100 * used) / elapsed).toFixed(1)} % of a core, ` +
        `${((1000 * used) / elapsed / CALLS).toFixed(2)} ms CPU per call per second`,
    );
    if (withRoom) console.info(`connectRoom ms: ${joins.join(' ')}`);
    await Promise.all(sessions.map((s) => s.close()));
    for (const tone of tones) await tone.stop();
    for (const agent of agents) await agent.disconnect();
    for (const peer of peers) peer.close();
    expect(used).toBeGreaterThan(0);
  });
});
