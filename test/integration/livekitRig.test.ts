import { dispose, type Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContinuous } from '../support/audioContinuity.js';
import { joinRoom, nextAudioTrack, publishTone, recordAudio } from '../support/livekitParticipant.js';
import { type LiveKitRig, startLiveKit } from '../support/livekitRig.js';
import { analyseTone } from '../support/tone.js';

describe('test rig: audio through a real livekit-server', () => {
  let rig: LiveKitRig;
  const rooms: Room[] = [];

  beforeAll(async () => {
    rig = await startLiveKit();
  });

  afterAll(async () => {
    for (const room of rooms) await room.disconnect();
    await dispose();
    await rig?.server.stop();
  });

  it('carries a 440 Hz tone from one participant to another at the level it was sent', async () => {
    const roomService = new RoomServiceClient(rig.server.httpUrl, rig.apiKey, rig.apiSecret);
    const roomName = `rig-${Date.now()}`;
    await roomService.createRoom({ name: roomName, emptyTimeout: 60 });
    expect((await roomService.listRooms([roomName])).map((r) => r.name)).toEqual([roomName]);

    const speaker = await joinRoom(rig, roomName, 'speaker');
    const listener = await joinRoom(rig, roomName, 'listener');
    rooms.push(speaker, listener);

    const trackArrived = nextAudioTrack(listener, 'speaker');
    // 0.5 of full scale: a sine's RMS is then 20·log10(0.5/√2) ≈ -9 dBFS.
    const tone = await publishTone(speaker, { frequencyHz: 440, amplitude: 0.5 });
    try {
      const track = await trackArrived;
      // The receiving WebRTC stack fades a new stream in over about 200 ms: that is skipped here
      // and in every test that records a room, and the rest must be unbroken for 3 s, with no
      // gateway in the way (the baseline for the gateway's own audio tests).
      const audio = await recordAudio(track, { durationMs: 3500, settleMs: 300 });
      const analysis = analyseTone(audio, 48_000);
      const continuity = expectContinuous(audio, {
        sampleRate: 48_000,
        toneHz: 440,
        where: 'participant → participant',
      });
      console.info(`rig: ${continuity.summary}`);
      expect(analysis.frequencyHz).toBeGreaterThanOrEqual(435);
      expect(analysis.frequencyHz).toBeLessThanOrEqual(445);
      expect(analysis.levelDbfs).toBeGreaterThan(-15);
      expect(analysis.levelDbfs).toBeLessThan(-5);
      expect(analysis.purity).toBeGreaterThan(0.8);
    } finally {
      await tone.stop();
    }
  });
});
