import type { Logger } from 'pino';
import type { RoomBridgeEvents } from '../../livekit/roomBridgeTypes.js';
import type { RtpPortLease } from '../ports/portAllocatorTypes.js';
import type { SdpSession } from '../sdp/SdpSession.js';
import type { RecordingInit, SessionCloseReason } from '../workers/mediaChannelTypes.js';
import type { SessionEventSink } from '../workers/sessionHandlerTypes.js';
import type { SecureMediaTimers } from './dtlsIceTransport.js';
import type { FrameClock } from './frameClock.js';
import type { MediaTimeouts } from './mediaTimeoutTypes.js';
import type { PcmFiles } from './pcmFiles.js';
import type { SecureMediaParts } from './sessionRegistryTypes.js';

/** What a session needs of its LiveKit participant (RoomBridge; a fake in unit tests). */
export interface SessionRoomBridge {
  connect(): Promise<void>;
  pushCallerAudio(pcm: Int16Array): void;
  readMix(out: Int16Array): number;
  sendDtmf(digit: string): Promise<void>;
  close(): Promise<void>;
  on<E extends keyof RoomBridgeEvents>(event: E, listener: (...args: RoomBridgeEvents[E]) => void): unknown;
}

/** Makes the room participants of one worker's sessions. */
export interface RoomBridgeFactory {
  create(options: { url: string; token: string }): SessionRoomBridge;
  /** Frees what the bridges share in this process (rtc-node's FFI); called once, at shutdown. */
  dispose(): Promise<void>;
}

export interface RtpMediaSessionOptions {
  id: string;
  callId: string | null;
  lease: RtpPortLease;
  sdp: SdpSession;
  /** Certificate, ICE credentials and candidate for a DTLS-SRTP stream; null without DTLS. */
  secure: SecureMediaParts | null;
  /** ICE and DTLS timers; the RFC defaults when absent. */
  secureTimers?: SecureMediaTimers;
  /** The worker's shared 20 ms clock. */
  clock: FrameClock;
  events: SessionEventSink;
  bridges: RoomBridgeFactory;
  timeouts: MediaTimeouts;
  /**
   * Our answer is not sent yet (the call rings): nothing is sent, no ICE or DTLS starts and the
   * media timeout stands until startMedia.
   */
  awaitingAnswer?: boolean;
  /** RTCP report interval before randomisation (RFC 3550 §6.3.1: 5 s minimum). */
  rtcpIntervalMs: number;
  /** How often the `stats` event goes to the main process; 2 s by default. */
  statsIntervalMs?: number;
  logger: Logger;
  /**
   * The session ended on its own (media timeout, room gone, socket failure). Called once, after
   * its resources are released (the room is left in the background); the handler forgets the
   * session and reports sessionClosed.
   */
  onEnded: (session: { id: string }, reason: SessionCloseReason, message: string) => void;
  /** Decoded files shared by the worker's sessions; a session of its own by default. */
  pcmFiles?: PcmFiles;
  /** Where recordings go and the ffmpeg that writes them (WorkerInit.recording). */
  recording?: RecordingInit;
  /** Injected so tests are deterministic; Math.random by default. */
  random?: () => number;
}
