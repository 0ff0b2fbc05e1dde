import type { Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { expect } from 'vitest';
import { livekitHttpUrl } from '../../src/livekit/livekitProbe.js';
import type { Baresip } from './baresip.js';
import { joinRoom, nextAudioTrack, publishTone, recordAudio } from './livekitParticipant.js';
import type { LiveKitRig } from './livekitRig.js';
import { analyseTone } from './tone.js';
import { longestSound, unbrokenSound } from './unbrokenSound.js';

/**
 * Audio checks of a call between baresip and a room participant: the room hears baresip's tone,
 * baresip (once hung up) has decoded the room's, both at their frequency and level and unbroken.
 */
export interface BaresipAudioRig {
  rig: LiveKitRig;
  /** Where the participant and its tone are stopped after the test. */
  cleanup: (() => Promise<unknown>)[];
  baresipToneHz: number;
  roomToneHz: number;
}

/** The room hears baresip's tone; then 1.5 s more of the room's tone reaches baresip. */
export async function checkAudioBothWays(
  audio: BaresipAudioRig,
  callId: string,
  roomName: string,
): Promise<void> {
  const agent: Room = await joinRoom(audio.rig, roomName, 'agent');
  audio.cleanup.push(() => agent.disconnect());
  const tone = await publishTone(agent, { frequencyHz: audio.roomToneHz, amplitude: 0.3 });
  audio.cleanup.push(() => tone.stop());
  const track = await nextAudioTrack(agent, `sip_${callId}`);
  const heard = await unbrokenSound(() => recordAudio(track, { durationMs: 1000, settleMs: 100 }), 48_000);
  const inRoom = analyseTone(heard, 48_000);
  expect(inRoom.frequencyHz).toBeGreaterThan(audio.baresipToneHz - 5);
  expect(inRoom.frequencyHz).toBeLessThan(audio.baresipToneHz + 5);
  expect(inRoom.levelDbfs).toBeGreaterThan(-20);
  expect(inRoom.purity).toBeGreaterThan(0.8);
  await recordAudio(track, { durationMs: 1500, settleMs: 0 });
}

export async function checkBaresipHeardTheRoom(audio: BaresipAudioRig, baresip: Baresip): Promise<void> {
  const decoded = await baresip.decoded();
  const sound = longestSound(decoded.samples, decoded.sampleRate);
  // Unbroken (20 ms blocks above -30 dBFS, so no gap of 40 ms) for most of what was played.
  expect(sound.length / decoded.sampleRate).toBeGreaterThan(1.5);
  const atBaresip = analyseTone(sound, decoded.sampleRate);
  expect(atBaresip.frequencyHz).toBeGreaterThan(audio.roomToneHz - 5);
  expect(atBaresip.frequencyHz).toBeLessThan(audio.roomToneHz + 5);
  expect(atBaresip.levelDbfs).toBeGreaterThan(-20);
  expect(atBaresip.purity).toBeGreaterThan(0.8);
}

/** The attributes of a leg's participant, as livekit-server has them. */
export async function participantAttributes(
  rig: LiveKitRig,
  roomName: string,
  callId: string,
): Promise<Record<string, string> | undefined> {
  const rooms = new RoomServiceClient(livekitHttpUrl(rig.url), rig.apiKey, rig.apiSecret);
  const participants = await rooms.listParticipants(roomName);
  return participants.find((participant) => participant.identity === `sip_${callId}`)?.attributes;
}
