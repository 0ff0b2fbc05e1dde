import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import type { LiveKitRig } from './livekitRig.js';
import { ToneGenerator } from './tone.js';

/** A test participant: a real rtc-node Room connection with a token for one identity. */
export async function joinRoom(rig: LiveKitRig, roomName: string, identity: string): Promise<Room> {
  const token = new AccessToken(rig.apiKey, rig.apiSecret, { identity, ttl: '10m' });
  token.addGrant({ roomJoin: true, room: roomName, canPublish: true, canSubscribe: true });
  const room = new Room();
  await room.connect(rig.url, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  return room;
}

/** Joins with a token minted elsewhere (the gateway's token endpoint, as a browser would). */
export async function joinRoomWithToken(url: string, token: string): Promise<Room> {
  const room = new Room();
  await room.connect(url, token, { autoSubscribe: true, dynacast: false });
  return room;
}

/**
 * Publishes a tone as a microphone track until `stop()`; frames are paced by the source's queue
 * (`queueMs`, default 200: a longer one rides out a busier test process).
 */
export async function publishTone(
  room: Room,
  tone: { frequencyHz: number; amplitude: number },
  source: { queueMs?: number; trackSource?: TrackSource } = {},
): Promise<{ stop: () => Promise<void> }> {
  const sampleRate = 48_000;
  const samplesPerFrame = sampleRate / 100;
  const audio = new AudioSource(sampleRate, 1, source.queueMs ?? 200);
  const track = LocalAudioTrack.createAudioTrack('tone', audio);
  const options = new TrackPublishOptions();
  options.source = source.trackSource ?? TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant?.publishTrack(track, options);
  const generator = new ToneGenerator({ ...tone, sampleRate });
  let running = true;
  const pump = (async () => {
    while (running) {
      // A fresh Int16Array per frame: rtc-node reads the whole underlying buffer, not a view.
      const samples = generator.next(samplesPerFrame);
      await audio.captureFrame(new AudioFrame(samples, sampleRate, 1, samplesPerFrame));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await pump;
      await audio.close();
    },
  };
}

/** Resolves with the first remote audio track of `fromIdentity` that this room subscribes to. */
export function nextAudioTrack(room: Room, fromIdentity: string): Promise<RemoteTrack> {
  for (const participant of room.remoteParticipants.values()) {
    if (participant.identity !== fromIdentity) continue;
    for (const publication of participant.trackPublications.values()) {
      if (publication.kind === TrackKind.KIND_AUDIO && publication.track)
        return Promise.resolve(publication.track);
    }
  }
  return new Promise((resolve) => {
    const onSubscribed = (track: RemoteTrack, _publication: unknown, participant: { identity: string }) => {
      if (track.kind !== TrackKind.KIND_AUDIO || participant.identity !== fromIdentity) return;
      room.off(RoomEvent.TrackSubscribed, onSubscribed);
      resolve(track);
    };
    room.on(RoomEvent.TrackSubscribed, onSubscribed);
  });
}

/**
 * Collects `durationMs` of mono 48 kHz audio from a track, starting once sound arrives (the first
 * frames after subscribing are silence while the decoder settles) plus `settleMs`.
 */
export async function recordAudio(
  track: RemoteTrack,
  options: { durationMs: number; settleMs: number; silenceBelowDbfs?: number },
): Promise<Int16Array> {
  const sampleRate = 48_000;
  const stream = new AudioStream(track, { sampleRate, numChannels: 1 });
  const wanted = (options.durationMs * sampleRate) / 1000;
  const settle = (options.settleMs * sampleRate) / 1000;
  const out = new Int16Array(wanted);
  let filled = 0;
  let heard = 0;
  const reader = stream.getReader();
  try {
    while (filled < wanted) {
      const { value: frame, done } = await reader.read();
      if (done || !frame) throw new Error('audio stream ended before enough audio arrived');
      const data = frame.data;
      if (heard === 0 && !isAudible(data, options.silenceBelowDbfs ?? -50)) continue;
      for (let i = 0; i < data.length && filled < wanted; i++) {
        if (heard++ < settle) continue;
        out[filled++] = data[i] ?? 0;
      }
    }
  } finally {
    reader.releaseLock();
    await stream.cancel().catch(() => undefined);
  }
  return out;
}

function isAudible(samples: Int16Array, thresholdDbfs: number): boolean {
  let sum = 0;
  for (const v of samples) sum += (v / 32768) ** 2;
  return 10 * Math.log10(sum / Math.max(1, samples.length)) > thresholdDbfs;
}

/**
 * The sip.callStatus values a SIP leg's participant showed `room`, in order: the one it had when
 * seen first, then each change. `until` resolves once `status` was shown.
 */
export function watchCallStatus(room: Room, identity: string) {
  const seen: string[] = [];
  const waiters: { status: string; resolve: () => void }[] = [];
  const note = (status: string | undefined): void => {
    if (status === undefined || seen.at(-1) === status) return;
    seen.push(status);
    for (const waiter of waiters.filter((w) => w.status === status)) waiter.resolve();
  };
  const current = (): void => note(room.remoteParticipants.get(identity)?.attributes['sip.callStatus']);
  room.on(RoomEvent.ParticipantConnected, current);
  room.on(RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
    if (participant.identity === identity) note(changed['sip.callStatus']);
  });
  current();
  return {
    seen,
    until: (status: string): Promise<void> =>
      seen.includes(status)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ status, resolve })),
  };
}
