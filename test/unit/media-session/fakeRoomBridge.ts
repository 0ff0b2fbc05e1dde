import { EventEmitter } from 'node:events';
import type { RoomBridgeEvents } from '../../../src/livekit/roomBridgeTypes.js';
import type {
  RoomBridgeFactory,
  SessionRoomBridge,
} from '../../../src/media/session/rtpMediaSessionTypes.js';
import { ToneGenerator } from '../../support/tone.js';

/** A room participant without LiveKit: plays a tone as the room's mix and keeps what it is given. */
export class FakeRoomBridge extends EventEmitter<RoomBridgeEvents> implements SessionRoomBridge {
  readonly callerAudio: number[] = [];
  readonly digitsSent: string[] = [];
  connected = false;
  closed = false;
  private readonly mixTone: ToneGenerator | null;

  constructor(mixToneHz: number | null) {
    super();
    this.mixTone = mixToneHz
      ? new ToneGenerator({ frequencyHz: mixToneHz, sampleRate: 48_000, amplitude: 0.4 })
      : null;
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  pushCallerAudio(pcm: Int16Array): void {
    // Keep the last 2 s only.
    for (const sample of pcm) this.callerAudio.push(sample);
    if (this.callerAudio.length > 96_000) this.callerAudio.splice(0, this.callerAudio.length - 96_000);
  }

  readMix(out: Int16Array): number {
    if (!this.mixTone) {
      out.fill(0);
      return 0;
    }
    out.set(this.mixTone.next(out.length));
    return 1;
  }

  async sendDtmf(digit: string): Promise<void> {
    this.digitsSent.push(digit);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class FakeBridgeFactory implements RoomBridgeFactory {
  readonly bridges: FakeRoomBridge[] = [];
  disposed = false;

  constructor(private readonly mixToneHz: number | null = 440) {}

  create(): SessionRoomBridge {
    const bridge = new FakeRoomBridge(this.mixToneHz);
    this.bridges.push(bridge);
    return bridge;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
