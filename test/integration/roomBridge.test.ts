import { dispose, type Room, RoomEvent, TrackSource } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FfiAudio } from '../../src/livekit/ffiAudio.js';
import { LiveKitTokens } from '../../src/livekit/liveKitTokens.js';
import { BRIDGE_SAMPLE_RATE, RoomBridge } from '../../src/livekit/roomBridge.js';
import { joinRoom, nextAudioTrack, publishTone, recordAudio } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { analyseTone, rmsDbfs, ToneGenerator } from '../support/tone.js';

let rig: LiveKitRig;
let roomService: RoomServiceClient;
const cleanup: (() => Promise<unknown>)[] = [];
/** One router for the file's bridges, as one worker process has. */
const ffiAudio = new FfiAudio();

beforeAll(async () => {
  rig = await startLiveKit();
  roomService = new RoomServiceClient(rig.server.httpUrl, rig.apiKey, rig.apiSecret);
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => {
  await dispose();
  await rig?.server.stop();
});

let rooms = 0;
async function bridgeInNewRoom(): Promise<{ bridge: RoomBridge; roomName: string }> {
  const roomName = `bridge-${++rooms}-${Date.now()}`;
  await roomService.createRoom({ name: roomName });
  const token = await new LiveKitTokens(rig).participantToken({
    room: roomName,
    identity: 'sip_call_test',
    kind: 'sip',
    attributes: { 'sip.callId': 'call_test', 'sip.from': '+15550100' },
    ttlSeconds: 600,
  });
  const bridge = new RoomBridge({ url: rig.url, token, logger: pino({ level: 'silent' }), audio: ffiAudio });
  await bridge.connect();
  cleanup.push(() => bridge.close());
  return { bridge, roomName };
}

async function participant(roomName: string, identity: string): Promise<Room> {
  const room = await joinRoom(rig, roomName, identity);
  cleanup.push(() => room.disconnect());
  return room;
}

/**
 * Drives a callback once per 20 ms of wall-clock time, the SIP leg's clock. A plain setInterval
 * drifts late, which would consume audio slower than LiveKit produces it.
 */
function every20ms(tick: () => void): () => void {
  const start = performance.now();
  let ticks = 0;
  let stopped = false;
  const timer = setInterval(() => {
    while (!stopped && (performance.now() - start) / 20 >= ticks + 1) {
      ticks++;
      tick();
    }
  }, 5);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Resolves once `contributors` participants are heard in the bridge's mix. */
function untilMixHas(bridge: RoomBridge, contributors: number): Promise<void> {
  const mix = new Int16Array(BRIDGE_SAMPLE_RATE / 50);
  return new Promise((resolve) => {
    const stop = every20ms(() => {
      if (bridge.readMix(mix) >= contributors) {
        stop();
        resolve();
      }
    });
  });
}

/** The bridge's mix from the first audible block on, `seconds` long. */
function collectMix(bridge: RoomBridge, seconds: number): Promise<Int16Array> {
  const mix = new Int16Array(BRIDGE_SAMPLE_RATE / 50);
  return new Promise<Int16Array>((resolve) => {
    const collected = new Int16Array(BRIDGE_SAMPLE_RATE * seconds);
    let filled = 0;
    let heard = false;
    const stop = every20ms(() => {
      bridge.readMix(mix);
      heard ||= rmsDbfs(mix) > -40;
      if (!heard) return;
      collected.set(mix.subarray(0, Math.min(mix.length, collected.length - filled)), filled);
      filled += mix.length;
      if (filled >= collected.length) {
        stop();
        resolve(collected);
      }
    });
  });
}

/**
 * Until 440 Hz and 660 Hz are in the mix together: each must carry a clear share of a half-second
 * block. A loaded machine can starve one stream for a moment, so blocks are taken until one shows
 * both, within a deadline; a mix that drops either voice never gets there.
 */
async function untilBothVoices(bridge: RoomBridge): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = { low: 0, high: 0 };
  for (;;) {
    const block = await collectMix(bridge, 0.5);
    const low = analyseTone(block, BRIDGE_SAMPLE_RATE, { minHz: 400, maxHz: 500 });
    const high = analyseTone(block, BRIDGE_SAMPLE_RATE, { minHz: 600, maxHz: 700 });
    last = { low: low.purity, high: high.purity };
    const bothHeard =
      Math.abs(low.frequencyHz - 440) <= 5 &&
      Math.abs(high.frequencyHz - 660) <= 5 &&
      low.purity > 0.3 &&
      high.purity > 0.3;
    if (bothHeard) return;
    if (Date.now() > deadline) throw new Error(`the mix never carried both voices: ${JSON.stringify(last)}`);
  }
}

describe('RoomBridge (a SIP leg in a LiveKit room)', () => {
  it('publishes the caller audio: a room participant hears 1000 Hz at the level sent', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const listener = await participant(roomName, 'agent');
    const trackArrived = nextAudioTrack(listener, 'sip_call_test');
    const tone = new ToneGenerator({ frequencyHz: 1000, sampleRate: BRIDGE_SAMPLE_RATE, amplitude: 0.3 });
    const stop = every20ms(() => bridge.pushCallerAudio(tone.next(BRIDGE_SAMPLE_RATE / 50)));
    cleanup.push(async () => stop());

    const audio = await recordAudio(await trackArrived, { durationMs: 1000, settleMs: 300 });
    const analysis = analyseTone(audio, BRIDGE_SAMPLE_RATE);
    expect(Math.abs(analysis.frequencyHz - 1000)).toBeLessThanOrEqual(10);
    expect(analysis.levelDbfs).toBeGreaterThan(20 * Math.log10(0.3 / Math.SQRT2) - 4);
    expect(analysis.levelDbfs).toBeLessThan(20 * Math.log10(0.3 / Math.SQRT2) + 3);
    expect(analysis.purity).toBeGreaterThan(0.8);
  });

  it('mixes the other participants for the caller: 440 Hz from one, 440+660 Hz from two', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const joined: string[] = [];
    bridge.on('participantJoined', (identity) => joined.push(identity));
    const agent = await participant(roomName, 'agent');
    const tone = await publishTone(agent, { frequencyHz: 440, amplitude: 0.4 });
    cleanup.push(() => tone.stop());

    const collect = (seconds: number) => collectMix(bridge, seconds);

    const one = analyseTone(await collect(1), BRIDGE_SAMPLE_RATE);
    expect(Math.abs(one.frequencyHz - 440)).toBeLessThanOrEqual(5);
    expect(one.levelDbfs).toBeGreaterThan(-16);
    expect(joined).toContain('agent');

    const second = await participant(roomName, 'supervisor');
    const tone2 = await publishTone(second, { frequencyHz: 660, amplitude: 0.4 });
    cleanup.push(() => tone2.stop());
    await untilBothVoices(bridge);
  });

  it('mixes every audio track of a participant (microphone and screen-share audio)', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const agent = await participant(roomName, 'agent');
    const voice = await publishTone(agent, { frequencyHz: 440, amplitude: 0.4 });
    cleanup.push(() => voice.stop());
    const shared = await publishTone(
      agent,
      { frequencyHz: 660, amplitude: 0.4 },
      { trackSource: TrackSource.SOURCE_SCREENSHARE_AUDIO },
    );
    cleanup.push(() => shared.stop());
    await untilBothVoices(bridge);
  });

  it('never returns the caller its own voice', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const agent = await participant(roomName, 'agent');
    const agentTone = await publishTone(agent, { frequencyHz: 440, amplitude: 0.3 });
    cleanup.push(() => agentTone.stop());
    await untilMixHas(bridge, 1);

    const callerTone = new ToneGenerator({
      frequencyHz: 1000,
      sampleRate: BRIDGE_SAMPLE_RATE,
      amplitude: 0.5,
    });
    const mix = new Int16Array(BRIDGE_SAMPLE_RATE / 50);
    const heard = new Int16Array(BRIDGE_SAMPLE_RATE);
    await new Promise<void>((resolve) => {
      let filled = 0;
      const stop = every20ms(() => {
        bridge.pushCallerAudio(callerTone.next(mix.length));
        bridge.readMix(mix);
        heard.set(mix, filled);
        filled += mix.length;
        if (filled >= heard.length) {
          stop();
          resolve();
        }
      });
    });
    // The agent is in the mix; the caller's own 1000 Hz is not.
    expect(Math.abs(analyseTone(heard, BRIDGE_SAMPLE_RATE).frequencyHz - 440)).toBeLessThanOrEqual(5);
    expect(analyseTone(heard, BRIDGE_SAMPLE_RATE, { minHz: 900, maxHz: 1100 }).purity).toBeLessThan(0.01);
  });

  it('leaves no native stream or capture behind once closed', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const agent = await participant(roomName, 'agent');
    const agentTone = await publishTone(agent, { frequencyHz: 440, amplitude: 0.3 });
    cleanup.push(() => agentTone.stop());
    await untilMixHas(bridge, 1);
    const tone = new ToneGenerator({ frequencyHz: 1000, sampleRate: BRIDGE_SAMPLE_RATE, amplitude: 0.3 });
    for (let i = 0; i < 5; i++) bridge.pushCallerAudio(tone.next(BRIDGE_SAMPLE_RATE / 50));
    expect(ffiAudio.pending.streams).toBeGreaterThanOrEqual(1);
    await bridge.close();
    expect(ffiAudio.pending.streams).toBe(0);
    // Captures complete on the FFI's own thread: each one's callback arrives shortly after.
    const deadline = Date.now() + 5000;
    while (ffiAudio.pending.captures > 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    expect(ffiAudio.pending.captures).toBe(0);
  });

  it('carries DTMF both ways', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const agent = await participant(roomName, 'agent');
    // Data reaches a participant over its subscriber connection, which livekit-server sets up
    // only once there is media to receive: as in a real call, both sides publish audio first.
    const tone = await publishTone(agent, { frequencyHz: 440, amplitude: 0.2 });
    cleanup.push(() => tone.stop());
    await nextAudioTrack(agent, 'sip_call_test');
    await untilMixHas(bridge, 1);

    const toRoom = new Promise<[number, string, string]>((resolve) =>
      agent.once(RoomEvent.DtmfReceived, (code, digit, who) => resolve([code, digit, who.identity])),
    );
    await bridge.sendDtmf('#');
    expect(await toRoom).toEqual([11, '#', 'sip_call_test']);

    const fromRoom = new Promise((resolve) => bridge.once('dtmf', resolve));
    await agent.localParticipant?.publishDtmf(5, '5');
    expect(await fromRoom).toEqual({ code: 5, digit: '5', from: 'agent' });
  });

  it('reports room_deleted when the room is deleted under it', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const closed = new Promise((resolve) => bridge.once('closed', resolve));
    await roomService.deleteRoom(roomName);
    expect(await closed).toBe('room_deleted');
  });

  it('joins with its identity, kind and attributes visible to others', async () => {
    const { roomName } = await bridgeInNewRoom();
    const agent = await participant(roomName, 'agent');
    const sip = agent.remoteParticipants.get('sip_call_test');
    expect(sip?.attributes).toMatchObject({ 'sip.callId': 'call_test', 'sip.from': '+15550100' });
  });

  it('says sip.callStatus hangup before it leaves the room', async () => {
    const { bridge, roomName } = await bridgeInNewRoom();
    const agent = await participant(roomName, 'agent');
    const seen: string[] = [];
    agent.on(RoomEvent.ParticipantAttributesChanged, (changed, who) => {
      if (who.identity === 'sip_call_test' && changed['sip.callStatus']) seen.push(changed['sip.callStatus']);
    });
    const left = new Promise<void>((resolve) =>
      agent.on(RoomEvent.ParticipantDisconnected, (who) => {
        if (who.identity === 'sip_call_test') resolve();
      }),
    );
    await bridge.close();
    await left;
    expect(seen).toEqual(['hangup']);
  });
});
