import {
  createLocalAudioTrack,
  type LocalAudioTrack,
  type RemoteAudioTrack,
  Room,
  RoomEvent,
  Track,
} from 'livekit-client';
import type { CallToken } from './api.js';

/** What the page hears from the caller: its loudest frequency and level (the meter's numbers). */
export interface Heard {
  frequencyHz: number;
  levelDbfs: number;
}

/** RFC 4733 event codes of the keypad's keys. */
const DTMF_CODES: Record<string, number> = {
  '0': 0,
  '1': 1,
  '2': 2,
  '3': 3,
  '4': 4,
  '5': 5,
  '6': 6,
  '7': 7,
  '8': 8,
  '9': 9,
  '*': 10,
  '#': 11,
};

/**
 * The agent in a call's room: the microphone published, the caller played, a level meter each
 * way, mute, hold (both ways) and the keypad (LiveKit SIP DTMF, which the gateway sends to the
 * phone as RFC 4733).
 */
export class CallRoom {
  private readonly room = new Room();
  private microphone: LocalAudioTrack | null = null;
  private readonly remote: RemoteAudioTrack[] = [];
  private readonly audio = new AudioContext();
  private callerAnalyser: AnalyserNode | null = null;
  private myAnalyser: AnalyserNode | null = null;
  private held = false;

  constructor(private readonly onLeft: () => void) {}

  async join(grant: CallToken): Promise<void> {
    this.room.on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind !== Track.Kind.Audio) return;
      const audioTrack = track as RemoteAudioTrack;
      this.remote.push(audioTrack);
      const element = audioTrack.attach();
      element.dataset.role = 'caller-audio';
      document.body.append(element);
      if (this.held) audioTrack.setVolume(0);
      this.callerAnalyser = this.analyse(audioTrack.mediaStreamTrack);
    });
    this.room.on(RoomEvent.Disconnected, () => this.onLeft());
    await this.room.connect(grant.url, grant.token);
    await this.audio.resume();
    this.microphone = await createLocalAudioTrack({ echoCancellation: true, noiseSuppression: true });
    await this.room.localParticipant.publishTrack(this.microphone);
    this.myAnalyser = this.analyse(this.microphone.mediaStreamTrack);
  }

  async leave(): Promise<void> {
    await this.room.disconnect();
    for (const track of this.remote) {
      for (const element of track.detach()) element.remove();
    }
    await this.audio.close();
  }

  async setMuted(muted: boolean): Promise<void> {
    if (muted) await this.microphone?.mute();
    else await this.microphone?.unmute();
  }

  /** Hold mutes both ways: the caller hears nothing from here, and nothing of theirs plays. */
  async setHeld(held: boolean): Promise<void> {
    this.held = held;
    await this.setMuted(held);
    for (const track of this.remote) track.setVolume(held ? 0 : 1);
  }

  async pressKey(digit: string): Promise<void> {
    const code = DTMF_CODES[digit];
    if (code === undefined) return;
    await this.room.localParticipant.publishDtmf(code, digit);
  }

  /** Current levels, 0–1, for the meters. */
  levels(): { caller: number; me: number } {
    return { caller: level(this.callerAnalyser), me: level(this.myAnalyser) };
  }

  /** What the caller's audio has sounded like over `ms` (averaged spectrum, mean level). */
  async heard(ms: number): Promise<Heard> {
    const start = Date.now();
    while (!this.callerAnalyser && Date.now() - start < 10_000) await sleep(50);
    const analyser = this.callerAnalyser;
    if (!analyser) return { frequencyHz: 0, levelDbfs: -200 };
    const bins = new Float32Array(analyser.frequencyBinCount);
    const sum = new Float64Array(analyser.frequencyBinCount);
    const wave = new Float32Array(analyser.fftSize);
    let power = 0;
    let samples = 0;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      analyser.getFloatFrequencyData(bins);
      bins.forEach((db, i) => {
        sum[i] = (sum[i] ?? 0) + 10 ** (db / 10);
      });
      analyser.getFloatTimeDomainData(wave);
      for (const sample of wave) power += sample * sample;
      samples += wave.length;
      await sleep(50);
    }
    let peak = 1;
    for (let i = 1; i < sum.length; i++) if ((sum[i] ?? 0) > (sum[peak] ?? 0)) peak = i;
    return {
      frequencyHz: (peak * this.audio.sampleRate) / analyser.fftSize,
      levelDbfs: 10 * Math.log10(power / Math.max(1, samples) + 1e-20),
    };
  }

  private analyse(track: MediaStreamTrack): AnalyserNode {
    const analyser = this.audio.createAnalyser();
    analyser.fftSize = 8192;
    this.audio.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    return analyser;
  }
}

function level(analyser: AnalyserNode | null): number {
  if (!analyser) return 0;
  const wave = new Float32Array(analyser.fftSize);
  analyser.getFloatTimeDomainData(wave);
  let power = 0;
  for (const sample of wave) power += sample * sample;
  return Math.min(1, Math.sqrt(power / wave.length) * 3);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
