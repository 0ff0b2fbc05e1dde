import {
  AudioStreamType,
  type FfiEvent,
  FfiHandle,
  livekitFfiRequest,
  type NewAudioStreamResponse,
} from '@livekit/rtc-ffi-bindings';
import type { AudioSource, Track } from '@livekit/rtc-node';
import { encodeCaptureRequest } from './captureRequest.js';

/**
 * Capture async ids are ours (request_async_id), from far above the FFI's own counter and
 * rtc-node's, so a callback is never mistaken for another request's.
 */
const FIRST_CAPTURE_ID = 1n << 62n;

/**
 * The few members of rtc-node's process-wide FfiClient this module uses. rtc-node does not export
 * the class; its one instance lives on `globalThis._ffiClientInstance` once any rtc-node object
 * has made a request (an AudioSource does, in its constructor).
 */
interface FfiClientInternals {
  request<T>(request: unknown): T;
  copyBuffer(ptr: bigint, length: number): Uint8Array;
  retrievePtr(data: Uint8Array): bigint;
  emit(name: string | symbol, ...args: unknown[]): boolean;
}

/** A remote track's decoded audio, delivered frame by frame until closed. */
export interface FfiAudioStream {
  close(): void;
}

export interface FfiAudioStreamOptions {
  sampleRate: number;
  frameSizeMs: number;
  /** Each frame's samples (mono), in a buffer of its own. */
  onFrame(samples: Int16Array): void;
  /** The native side ended the stream (the track went away). */
  onEnd(): void;
}

/** A capture in flight: its buffer must outlive the native call that reads it. */
interface Capture {
  buffer: Int16Array;
  done: (buffer: Int16Array, error: string | undefined) => void;
}

/**
 * The audio hot path of a process's LiveKit participants, straight on rtc-node's FFI.
 *
 * rtc-node hands every FFI event to every listener in the process: each Room, each AudioStream
 * and each pending AudioSource.captureFrame (a promise, a timer and a listener per 10 ms frame)
 * looks at every frame of every call, so a worker's JavaScript cost grew with calls squared
 * (issue 14's profile: event fan-out, Room.onFfiEvent and capture promises were about a third
 * of a loaded worker's busy time). Here the two audio event kinds, a stream's frames and a
 * capture's completion, are taken out before that fan-out and routed by handle and async id;
 * every other event (room, track, connect callbacks) goes on to rtc-node's listeners untouched.
 *
 * One instance per worker process (LiveKitBridgeFactory makes it). It reaches into rtc-node's
 * internals, so it checks their shape when it attaches and says plainly when an upgrade broke it.
 */
export class FfiAudio {
  private client: FfiClientInternals | undefined;
  private readonly streams = new Map<bigint, { options: FfiAudioStreamOptions; handle: FfiHandle }>();
  private readonly captures = new Map<bigint, Capture>();
  private nextCaptureId = FIRST_CAPTURE_ID;

  /**
   * Sends one 10 ms frame (direct capture takes exactly that) from `buffer`, which stays untouched
   * until `done` returns it; rtc-node's own captureFrame would cost a promise, a timer and a
   * listener per frame.
   */
  capture(
    source: AudioSource,
    buffer: Int16Array,
    done: (buffer: Int16Array, error: string | undefined) => void,
  ): void {
    const client = this.attach();
    const asyncId = this.nextCaptureId++;
    this.captures.set(asyncId, { buffer, done });
    try {
      // The response only repeats our async id: it is not decoded.
      livekitFfiRequest(
        encodeCaptureRequest({
          sourceHandle: source.ffiHandle.handle,
          dataPtr: client.retrievePtr(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)),
          numChannels: 1,
          sampleRate: source.sampleRate,
          samplesPerChannel: buffer.length,
          asyncId,
        }),
      );
    } catch (error) {
      this.captures.delete(asyncId);
      throw error;
    }
  }

  /** Opens a native audio stream on a subscribed remote track (mono, `sampleRate`). */
  openStream(track: Track, options: FfiAudioStreamOptions): FfiAudioStream {
    const client = this.attach();
    const response = client.request<NewAudioStreamResponse>({
      message: {
        case: 'newAudioStream',
        value: {
          type: AudioStreamType.AUDIO_STREAM_NATIVE,
          trackHandle: track.ffi_handle.handle,
          sampleRate: options.sampleRate,
          numChannels: 1,
          frameSizeMs: options.frameSizeMs,
        },
      },
    });
    const id = response.stream?.handle?.id;
    if (id === undefined) throw new Error('rtc-node returned no audio stream handle');
    this.streams.set(id, { options, handle: new FfiHandle(id) });
    return { close: () => this.closeStream(id) };
  }

  /** Streams and captures in flight (a leak shows here). */
  get pending(): { streams: number; captures: number } {
    return { streams: this.streams.size, captures: this.captures.size };
  }

  /** Takes the events this module owns; false hands the event on to rtc-node's listeners. */
  private route(event: FfiEvent): boolean {
    const message = event.message;
    if (message.case === 'captureAudioFrame') {
      const asyncId = message.value.asyncId;
      const capture = asyncId === undefined ? undefined : this.captures.get(asyncId);
      if (!capture || asyncId === undefined) return false;
      this.captures.delete(asyncId);
      capture.done(capture.buffer, message.value.error);
      return true;
    }
    if (message.case !== 'audioStreamEvent') return false;
    const handle = message.value.streamHandle;
    const stream = handle === undefined ? undefined : this.streams.get(handle);
    if (!stream || handle === undefined) return false;
    const streamEvent = message.value.message;
    if (streamEvent.case === 'frameReceived') {
      const owned = streamEvent.value.frame;
      const info = owned?.info;
      const samples = (info?.numChannels ?? 1) * (info?.samplesPerChannel ?? 0);
      // Copied out first: disposing the frame's handle frees the native buffer.
      const bytes =
        info?.dataPtr && samples > 0 ? this.attach().copyBuffer(info.dataPtr, samples * 2) : undefined;
      if (owned?.handle?.id !== undefined) new FfiHandle(owned.handle.id).dispose();
      if (bytes) stream.options.onFrame(new Int16Array(bytes.buffer, bytes.byteOffset, samples));
    } else if (streamEvent.case === 'eos') {
      // The native stream is over, but its handle is still ours to free.
      this.closeStream(handle);
      stream.options.onEnd();
    }
    return true;
  }

  private closeStream(id: bigint): void {
    const stream = this.streams.get(id);
    if (!stream) return;
    this.streams.delete(id);
    stream.handle.dispose();
  }

  /**
   * Finds rtc-node's client and puts the router in front of its event fan-out, once. Needs an
   * rtc-node object that made a request first (RoomBridge creates its AudioSource before this).
   */
  private attach(): FfiClientInternals {
    if (this.client) return this.client;
    const client = (globalThis as { _ffiClientInstance?: FfiClientInternals })._ffiClientInstance;
    if (
      !client ||
      typeof client.request !== 'function' ||
      typeof client.copyBuffer !== 'function' ||
      typeof client.retrievePtr !== 'function' ||
      typeof client.emit !== 'function'
    ) {
      throw new Error(
        "@livekit/rtc-node's FFI client is not where src/livekit/ffiAudio.ts expects it (globalThis._ffiClientInstance): was rtc-node upgraded?",
      );
    }
    const emit = client.emit.bind(client);
    client.emit = (name: string | symbol, ...args: unknown[]): boolean => {
      if (name === 'ffi_event' && this.route(args[0] as FfiEvent)) return true;
      return emit(name, ...args);
    };
    this.client = client;
    return client;
  }
}
