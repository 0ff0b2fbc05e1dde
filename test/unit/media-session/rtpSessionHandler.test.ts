import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { CodecName } from '../../../src/media/codecs/codecTypes.js';
import { RtpSender } from '../../../src/media/rtp/rtpSender.js';
import { RtpSessionHandler } from '../../../src/media/session/RtpSessionHandler.js';
import type {
  MediaEventName,
  MediaEvents,
  SessionStats,
  WorkerInit,
} from '../../../src/media/workers/mediaChannelTypes.js';
import { RtpPeer } from '../../support/rtpPeer.js';
import { analyseTone } from '../../support/tone.js';
import { FakeBridgeFactory } from './fakeRoomBridge.js';

type Recorded = { [E in MediaEventName]: { event: E; data: MediaEvents[E] } }[MediaEventName];

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

let sessions = 0;

function handler(
  options: { timeoutSeconds?: number; mixToneHz?: number | null; statsIntervalMs?: number } = {},
) {
  // Below the kernel's ephemeral ports and the other media tests' blocks.
  const base = 20_000 + Math.floor(Math.random() * 150) * 20;
  const init: WorkerInit = {
    workerIndex: 0,
    portRange: { min: base, max: base + 19 },
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    codecs: ['opus', 'G722', 'PCMU', 'PCMA', 'telephone-event'],
    timeoutInitialSeconds: options.timeoutSeconds ?? 30,
    timeoutSeconds: options.timeoutSeconds ?? 15,
  };
  const events: Recorded[] = [];
  const listeners: ((event: Recorded) => void)[] = [];
  const bridges = new FakeBridgeFactory(options.mixToneHz === undefined ? 440 : options.mixToneHz);
  const instance = new RtpSessionHandler(
    {
      init,
      events: {
        emit(event, data) {
          const recorded = { event, data } as Recorded;
          events.push(recorded);
          for (const listener of listeners) listener(recorded);
        },
      },
    },
    {
      bridges,
      logger: pino({ level: 'silent' }),
      ...(options.statsIntervalMs ? { statsIntervalMs: options.statsIntervalMs } : {}),
    },
  );
  cleanup.push(() => instance.shutdown());
  const nextEvent = <E extends MediaEventName>(name: E): Promise<MediaEvents[E]> =>
    new Promise((resolve) =>
      listeners.push((recorded) => {
        if (recorded.event === name) resolve(recorded.data as MediaEvents[E]);
      }),
    );
  return { handler: instance, events, bridges, nextEvent };
}

async function peer(codec: CodecName): Promise<RtpPeer> {
  const opened = await RtpPeer.open(codec);
  cleanup.push(() => opened.close());
  return opened;
}

const room = { url: 'ws://fake', token: 't', roomName: 'r', identity: 'sip_x', attributes: {} };

describe('RtpSessionHandler (in process, a fake room)', () => {
  it('latches to where RTP comes from, not the SDP port, and carries audio both ways', async () => {
    const { handler: h, bridges, nextEvent } = await handler();
    const p = await peer('PCMA');
    const sessionId = `s${++sessions}`;
    // The SDP names a port nobody listens on, as a NATed phone's private address would.
    const offer = p.offer().replace(`m=audio ${p.port} `, 'm=audio 9 ');
    const created = await h.createSession({ sessionId, remoteOffer: offer, callId: null });
    expect(created.media?.codec.name).toBe('PCMA');
    await h.connectRoom({ ...room, sessionId });
    p.useRemoteSdp(created.localSdp);
    const first = nextEvent('firstPacket');
    p.start({ frequencyHz: 1000, amplitude: 0.3 });
    expect((await first).from).toEqual({ address: '127.0.0.1', port: p.port });
    const heard = analyseTone(await p.recordAudible({ durationMs: 500, settleMs: 100 }), 8000);
    expect(Math.abs(heard.frequencyHz - 440)).toBeLessThanOrEqual(5);
    const bridge = bridges.bridges[0];
    await p.untilAudioPackets(25);
    const caller = analyseTone((bridge?.callerAudio ?? []).slice(-24_000), 48_000);
    expect(Math.abs(caller.frequencyHz - 1000)).toBeLessThanOrEqual(5);
    expect(caller.levelDbfs).toBeGreaterThan(-18);
  });

  it('ignores RTP from another source once latched', async () => {
    const { handler: h, bridges } = await handler();
    const p = await peer('PCMU');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: p.offer(), callId: null });
    await h.connectRoom({ ...room, sessionId });
    p.useRemoteSdp(created.localSdp);
    p.start({ frequencyHz: 1000, amplitude: 0.3 });
    await p.untilAudioPackets(10);
    // A stray sender with a loud 3 kHz tone at the same port.
    const stray = createSocket('udp4');
    cleanup.push(() => stray.close());
    stray.bind(0, '127.0.0.1');
    await once(stray, 'listening');
    const strayPeer = await peer('PCMU');
    const strayCodec = strayPeer.codec;
    const sender = new RtpSender({
      ssrc: 99,
      payloadType: 0,
      clockRate: 8000,
      ticksPerFrame: 160,
      initialSequenceNumber: 1,
      initialTimestamp: 0,
    });
    const loud = new Int16Array(160).map((_, i) =>
      Math.round(30000 * Math.sin((2 * Math.PI * 3000 * i) / 8000)),
    );
    for (let i = 0; i < 30; i++) {
      stray.send(
        Uint8Array.from(sender.nextMediaPacket(strayCodec.encode(loud))),
        created.rtpPort,
        '127.0.0.1',
      );
    }
    await p.untilAudioPackets(40);
    const caller = (bridges.bridges[0]?.callerAudio ?? []).slice(-38_400);
    expect(analyseTone(caller, 48_000, { minHz: 2900, maxHz: 3100 }).purity).toBeLessThan(0.01);
    const closed = await h.closeSession({ sessionId, reason: 'normal' });
    expect(closed.closed).toBe(true);
    expect(closed.stats?.packetsReceived).toBeLessThanOrEqual(p.audioPacketsReceived + 30);
    expect(h.status()).toEqual({ sessions: 0, portsInUse: 0 });
  });

  it('sends room DTMF to the peer as RFC 4733 and the peer’s digits to the room', async () => {
    const { handler: h, bridges, events, nextEvent } = await handler({ mixToneHz: null });
    const p = await peer('opus');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: p.offer(), callId: null });
    await h.connectRoom({ ...room, sessionId });
    p.useRemoteSdp(created.localSdp);
    p.start(null);
    await p.untilAudioPackets(3);
    const digit = p.nextDigit();
    bridges.bridges[0]?.emit('dtmf', { code: 3, digit: '3', from: 'agent' });
    expect(await digit).toBe('3');
    // Opus: telephone-event at 48 kHz, end packets three times with the event's timestamp.
    await p.untilEventPackets((packet) => packet.end, 3);
    const ends = p.eventPackets.filter((packet) => packet.end);
    expect(new Set(ends.map((packet) => packet.timestamp)).size).toBe(1);
    expect(events.some((e) => e.event === 'dtmf' && e.data.source === 'room' && e.data.digit === '3')).toBe(
      true,
    );

    const fromPeer = nextEvent('dtmf');
    p.sendDigits('8', 120);
    expect(await fromPeer).toMatchObject({ digit: '8', source: 'rfc4733', durationMs: 120 });
    expect(bridges.bridges[0]?.digitsSent).toEqual(['8']);
    await expect(h.sendDtmf({ sessionId, digits: '1x', durationMs: null })).rejects.toMatchObject({
      code: 'bad_request',
    });

    // A SIP INFO digit the main process received: reported like the peer's own, sent to the room.
    const fromInfo = nextEvent('dtmf');
    await h.injectDtmf({ sessionId, digit: '#', durationMs: 160, source: 'sip_info' });
    expect(await fromInfo).toMatchObject({ digit: '#', source: 'sip_info', durationMs: 160 });
    expect(bridges.bridges[0]?.digitsSent).toEqual(['8', '#']);
    await expect(
      h.injectDtmf({ sessionId, digit: '12', durationMs: null, source: 'sip_info' }),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('holds the peer by our sendonly offer: keeps sending, stops expecting RTP, no media timeout', async () => {
    const { handler: h, events, nextEvent } = await handler({ timeoutSeconds: 1 });
    const p = await peer('PCMU');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: p.offer(), callId: null });
    p.useRemoteSdp(created.localSdp);
    p.start(null);
    await p.untilAudioPackets(3);
    const { localSdp } = await h.hold({ sessionId, hold: true });
    expect(localSdp).toContain('a=sendonly');
    const { media } = await h.applyRemoteAnswer({ sessionId, sdp: p.offer('recvonly', 2) });
    expect(media.direction).toBe('sendonly');
    p.stop();
    // 1.2 s of our packets with none back: more than the 1 s timeout, and the call lives on.
    await p.untilAudioPackets(60);
    expect(events.some((e) => e.event === 'sessionClosed')).toBe(false);
    // Resumed, the clock runs again: silence from the peer now ends the call.
    const closedEvent = nextEvent('sessionClosed');
    await h.hold({ sessionId, hold: false });
    await h.applyRemoteAnswer({ sessionId, sdp: p.offer('sendrecv', 3) });
    const closed = await closedEvent;
    expect(closed).toMatchObject({ sessionId, reason: 'media_timeout' });
    expect(h.status().portsInUse).toBe(0);
  });

  it('holds a session made awaitingAnswer silent, with no media timeout, until startMedia', async () => {
    const { handler: h, events, nextEvent } = await handler({ timeoutSeconds: 1 });
    const ringing = await peer('PCMU');
    const ringingId = `s${++sessions}`;
    const created = await h.createSession({
      sessionId: ringingId,
      remoteOffer: ringing.offer(),
      callId: null,
      awaitingAnswer: true,
    });
    await h.connectRoom({ ...room, sessionId: ringingId });
    ringing.useRemoteSdp(created.localSdp);
    // The clock: a session answered at once, whose silent peer times out after 1 s.
    const clock = await peer('PCMU');
    const clockId = `s${++sessions}`;
    const clockClosed = nextEvent('sessionClosed');
    await h.createSession({ sessionId: clockId, remoteOffer: clock.offer(), callId: null });
    expect(await clockClosed).toMatchObject({ sessionId: clockId, reason: 'media_timeout' });
    // Meanwhile the ringing one sent the caller nothing (the room's tone is for after the
    // answer) and outlived the limit.
    expect(ringing.audioPacketsReceived).toBe(0);
    expect(events.filter((e) => e.event === 'sessionClosed')).toHaveLength(1);
    // Answered: the room is heard, and the peer's silence counts from now.
    const closedEvent = nextEvent('sessionClosed');
    await h.startMedia({ sessionId: ringingId });
    const heard = analyseTone(await ringing.recordAudible({ durationMs: 300, settleMs: 60 }), 8000);
    expect(Math.abs(heard.frequencyHz - 440)).toBeLessThanOrEqual(5);
    expect(await closedEvent).toMatchObject({ sessionId: ringingId, reason: 'media_timeout' });
    expect(h.status().portsInUse).toBe(0);
  });

  it('makes an offer when there is none, and carries audio once the answer is applied', async () => {
    const { handler: h } = await handler();
    const p = await peer('G722');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: null, callId: null });
    expect(created.type).toBe('offer');
    expect(created.media).toBeNull();
    await h.connectRoom({ ...room, sessionId });
    p.useRemoteSdp(created.localSdp);
    const { media } = await h.applyRemoteAnswer({ sessionId, sdp: p.offer() });
    expect(media.codec.name).toBe('G722');
    const heard = analyseTone(await p.recordAudible({ durationMs: 500, settleMs: 100 }), 16000);
    expect(Math.abs(heard.frequencyHz - 440)).toBeLessThanOrEqual(5);
  });

  it('follows a re-INVITE that moves the stream and changes the codec', async () => {
    const { handler: h } = await handler();
    const before = await peer('PCMU');
    const after = await peer('PCMA');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: before.offer(), callId: null });
    await h.connectRoom({ ...room, sessionId });
    before.useRemoteSdp(created.localSdp);
    before.start({ frequencyHz: 1000, amplitude: 0.3 });
    await before.untilAudioPackets(5);
    const reanswer = await h.answerOffer({ sessionId, sdp: after.offer('sendrecv', 2) });
    expect(reanswer.media.codec.name).toBe('PCMA');
    expect(reanswer.localSdp).toContain(`m=audio ${created.rtpPort} `);
    before.stop();
    after.useRemoteSdp(reanswer.localSdp);
    after.start({ frequencyHz: 1000, amplitude: 0.3 });
    const heard = analyseTone(await after.recordAudible({ durationMs: 500, settleMs: 100 }), 8000);
    expect(Math.abs(heard.frequencyHz - 440)).toBeLessThanOrEqual(5);
    // The stream moved: the old endpoint gets nothing more.
    const stale = before.audioPacketsReceived;
    await after.untilAudioPackets(10);
    expect(before.audioPacketsReceived).toBeLessThanOrEqual(stale + 1);
  });

  it('plays a tone to the peer and another to the room, then reports each playback ended', async () => {
    const { handler: h, bridges, nextEvent } = await handler({ mixToneHz: null });
    const p = await peer('PCMU');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: p.offer(), callId: null });
    await h.connectRoom({ ...room, sessionId });
    p.useRemoteSdp(created.localSdp);
    p.start(null);
    const toSip = await h.play({
      sessionId,
      source: { kind: 'tone', frequencyHz: 800, durationMs: 1000 },
      target: 'sip',
      loop: false,
    });
    const heard = analyseTone(await p.recordAudible({ durationMs: 400, settleMs: 40 }), 8000);
    expect(Math.abs(heard.frequencyHz - 800)).toBeLessThanOrEqual(5);
    // A new playback stops the one in progress.
    const stopped = nextEvent('playbackEnded');
    const toRoom = await h.play({
      sessionId,
      source: { kind: 'tone', frequencyHz: 600, durationMs: 300 },
      target: 'room',
      loop: false,
    });
    expect(await stopped).toEqual({ sessionId, playbackId: toSip.playbackId, reason: 'stopped' });
    expect(await nextEvent('playbackEnded')).toEqual({
      sessionId,
      playbackId: toRoom.playbackId,
      reason: 'finished',
    });
    const caller = (bridges.bridges[0]?.callerAudio ?? []).slice(-14_400 - 4800, -4800);
    expect(Math.abs(analyseTone(caller, 48_000).frequencyHz - 600)).toBeLessThanOrEqual(5);
    await expect(
      h.play({ sessionId, source: { kind: 'url', url: 'http://x/a.wav' }, target: 'sip', loop: false }),
    ).rejects.toMatchObject({ code: 'bad_request' });
  });

  it('packs 40 ms per packet when the offer asks for ptime 40', async () => {
    const { handler: h } = await handler();
    const p = await peer('PCMU');
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({
      sessionId,
      remoteOffer: p.offer('sendrecv', 1, { ptimeMs: 40 }),
      callId: null,
    });
    expect(created.localSdp).toContain('a=ptime:40');
    p.useRemoteSdp(created.localSdp);
    await p.untilAudioPackets(3);
    expect(p.lastAudioPayloadSize).toBe(320);
  });

  it('reports stats every interval from what it receives (no RTCP from the peer), across a codec change, and once more as it ends itself', async () => {
    const { handler: h, bridges, events, nextEvent } = await handler({ statsIntervalMs: 200 });
    const lossy = await peer('PCMU');
    // Our RTP peer sends no RTCP at all, like sipp: loss and jitter come from our receive side.
    lossy.loseEvery = 10;
    const sessionId = `s${++sessions}`;
    const created = await h.createSession({ sessionId, remoteOffer: lossy.offer(), callId: null });
    await h.connectRoom({ ...room, sessionId });
    lossy.useRemoteSdp(created.localSdp);
    lossy.start({ frequencyHz: 1000, amplitude: 0.3 });
    const statsUntil = async (done: (stats: SessionStats) => boolean): Promise<SessionStats> => {
      for (;;) {
        const { stats } = await nextEvent('stats');
        if (done(stats)) return stats;
      }
    };
    const before = await statsUntil((stats) => stats.packetsExpected >= 100);
    // Every 10th packet of each 10 lost, and the last one made may be lost but not yet expected.
    expect(Math.abs(before.packetsLost / before.packetsExpected - 0.1)).toBeLessThanOrEqual(0.011);
    expect(before.packetsReceived).toBe(before.packetsExpected - before.packetsLost);
    expect(before.jitterMs).toBeGreaterThanOrEqual(0);
    expect(before.roundTripMs).toBeNull();
    const reported = events.filter((e) => e.event === 'stats' && e.data.sessionId === sessionId);
    // 2 s of audio at one report per 200 ms (the shared clock ticks every 20 ms).
    expect(reported.length).toBeGreaterThanOrEqual(6);

    // A re-INVITE to another codec replaces the receive pipeline: the counts go on from where they were.
    const other = await peer('PCMA');
    other.loseEvery = 5;
    const reanswer = await h.answerOffer({ sessionId, sdp: other.offer('sendrecv', 2) });
    lossy.stop();
    other.useRemoteSdp(reanswer.localSdp);
    other.start({ frequencyHz: 1000, amplitude: 0.3 });
    const after = await statsUntil(
      (stats) =>
        stats.packetsExpected >= before.packetsExpected + 60 && stats.packetsLost > before.packetsLost,
    );
    expect(after.packetsLost).toBeGreaterThanOrEqual(before.packetsLost + 8);
    const ratio = after.packetsLost / after.packetsExpected;
    expect(ratio).toBeGreaterThan(0.1);
    expect(ratio).toBeLessThan(0.2);

    const closed = nextEvent('sessionClosed');
    bridges.bridges[0]?.emit('closed', 'room_deleted');
    await closed;
    const last = events.filter((e) => e.data.sessionId === sessionId).slice(-2);
    expect(last.map((e) => e.event)).toEqual(['stats', 'sessionClosed']);
    const final = last[0]?.event === 'stats' ? last[0].data.stats : undefined;
    expect(final?.packetsExpected).toBeGreaterThanOrEqual(after.packetsExpected);
  });

  it('ends the session with room_closed when the room goes, and shutdown frees everything', async () => {
    const { handler: h, bridges, nextEvent } = await handler();
    const peers = [await peer('PCMU'), await peer('PCMU')];
    for (const [i, p] of peers.entries()) {
      await h.createSession({ sessionId: `room${sessions}-${i}`, remoteOffer: p.offer(), callId: null });
      await h.connectRoom({ ...room, sessionId: `room${sessions}-${i}` });
    }
    expect(h.status()).toEqual({ sessions: 2, portsInUse: 2 });
    const closed = nextEvent('sessionClosed');
    bridges.bridges[0]?.emit('closed', 'room_deleted');
    expect(await closed).toMatchObject({ sessionId: `room${sessions}-0`, reason: 'room_closed' });
    expect(bridges.bridges[0]?.closed).toBe(true);
    expect(h.status()).toEqual({ sessions: 1, portsInUse: 1 });
    expect(await h.shutdown()).toBe(1);
    expect(h.status()).toEqual({ sessions: 0, portsInUse: 0 });
    expect(bridges.bridges[1]?.closed).toBe(true);
    expect(bridges.disposed).toBe(true);
  });
});
