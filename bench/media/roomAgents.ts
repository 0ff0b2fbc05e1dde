/**
 * Child process of the media benchmark: the LiveKit participants ("agents"), one per call's room.
 * Each publishes a 440 Hz tone (or silence and 1 kHz bursts) by direct capture on one shared
 * 10 ms clock and listens to the gateway's participant with an AudioProbe. It runs apart from the
 * SIP callers so the two sides' event loops do not delay each other's measurements.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  dispose,
  LocalAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { FrameClock } from '../../src/media/session/frameClock.js';
import { ToneGenerator } from '../../test/support/tone.js';
import type { AgentReadout, AgentReply, AgentRequest } from './agentMessages.js';
import { AudioProbe, wallNow } from './audioProbe.js';

const RATE = 48_000;
const FRAME = RATE / 100;

class Agent {
  readonly probe = new AudioProbe(RATE, 1000, -13.5);
  hearing = false;
  private readonly room = new Room();
  private readonly source = new AudioSource(RATE, 1, 0);
  private readonly tone440 = new ToneGenerator({ frequencyHz: 440, amplitude: 0.3, sampleRate: RATE });
  private readonly tone1k = new ToneGenerator({ frequencyHz: 1000, amplitude: 0.3, sampleRate: RATE });
  private burstFrames = 0;
  private pendingBurstAt: ((wallMs: number) => void) | undefined;
  private stream: AudioStream | undefined;
  private closed = false;

  constructor(
    private readonly listenTo: string,
    private readonly signal: 'tone' | 'silence',
  ) {
    this.room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
      if (track.kind === TrackKind.KIND_AUDIO && participant.identity === this.listenTo) this.listen(track);
    });
  }

  async join(url: string, token: string): Promise<void> {
    await this.room.connect(url, token, { autoSubscribe: true, dynacast: false });
    const track = LocalAudioTrack.createAudioTrack('agent', this.source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    await this.room.localParticipant?.publishTrack(track, options);
    for (const participant of this.room.remoteParticipants.values()) {
      if (participant.identity !== this.listenTo) continue;
      for (const publication of participant.trackPublications.values()) {
        if (publication.kind === TrackKind.KIND_AUDIO && publication.track) this.listen(publication.track);
      }
    }
  }

  burst(durationMs: number): Promise<number> {
    this.burstFrames = Math.ceil(durationMs / 10);
    return new Promise((resolve) => {
      this.pendingBurstAt = resolve;
    });
  }

  tick(): void {
    if (this.closed) return;
    let samples: Int16Array;
    if (this.burstFrames > 0) {
      samples = this.tone1k.next(FRAME);
      this.burstFrames--;
      // Direct capture hands the frame over now; its samples span the 10 ms up to now.
      this.pendingBurstAt?.(wallNow() - 10);
      this.pendingBurstAt = undefined;
    } else if (this.signal === 'tone') samples = this.tone440.next(FRAME);
    else samples = new Int16Array(FRAME);
    this.source.captureFrame(new AudioFrame(samples, RATE, 1, FRAME)).catch(() => undefined);
  }

  async leave(): Promise<void> {
    this.closed = true;
    await this.stream?.cancel().catch(() => undefined);
    await this.room.disconnect();
    await this.source.close();
  }

  private listen(track: RemoteTrack): void {
    if (this.stream) return;
    this.hearing = true;
    const stream = new AudioStream(track, { sampleRate: RATE, numChannels: 1, frameSizeMs: 10 });
    this.stream = stream;
    void (async () => {
      const reader = stream.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !value) return;
          this.probe.push(value.data, wallNow());
        }
      } catch {
        // The stream is cancelled on leave.
      } finally {
        reader.releaseLock();
      }
    })();
  }
}

const agents = new Map<string, Agent>();
const clock = new FrameClock({ frameMs: 10 });
const ticker = (): void => {
  for (const agent of agents.values()) agent.tick();
};
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

async function handle(request: AgentRequest): Promise<AgentReadout | number | undefined> {
  switch (request.kind) {
    case 'join': {
      const agent = new Agent(request.listenTo, request.signal);
      agents.set(request.agent, agent);
      if (clock.size === 0) clock.add(ticker);
      await agent.join(request.url, request.token);
      return undefined;
    }
    case 'burst': {
      const agent = agents.get(request.agent);
      if (!agent) throw new Error(`no agent ${request.agent}`);
      return agent.burst(request.durationMs);
    }
    case 'reset':
      for (const agent of agents.values()) agent.probe.reset();
      loopDelay.reset();
      return undefined;
    case 'read':
      return {
        agents: [...agents].map(([name, agent]) => ({
          agent: name,
          hearing: agent.hearing,
          ...agent.probe.read(),
        })),
        onsets: Object.fromEntries([...agents].map(([name, agent]) => [name, [...agent.probe.onsets]])),
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
      };
    case 'leave': {
      const agent = agents.get(request.agent);
      agents.delete(request.agent);
      if (agents.size === 0) clock.delete(ticker);
      await agent?.leave();
      return undefined;
    }
  }
}

process.on('message', (message: { seq: number; request: AgentRequest }) => {
  handle(message.request).then(
    (result) => process.send?.({ seq: message.seq, ok: true, result } satisfies AgentReply),
    (error: unknown) =>
      process.send?.({ seq: message.seq, ok: false, error: String(error) } satisfies AgentReply),
  );
});
process.on('disconnect', () => {
  void Promise.allSettled([...agents.values()].map((agent) => agent.leave()))
    .then(() => dispose())
    .finally(() => process.exit(0));
});
