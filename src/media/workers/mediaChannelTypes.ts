/**
 * The channel between the main process and a media worker process: typed commands
 * (request/response, correlated by id) and typed events (worker → main).
 *
 * Control only: a call's packets never cross it. Measured on rtc-node, per-frame work already
 * grows with the calls in one process; an IPC message per packet would add a second such cost.
 * Every message is plain JSON (Node's IPC frames it), so a message is never cut or merged.
 */
import type {
  RecordingEndReason,
  RecordingFormat,
  RecordingSummary,
} from '../../recording/recordingTypes.js';
import type { PortRange } from '../ports/portAllocatorTypes.js';
import type { SdpErrorCode } from '../sdp/sdpErrors.js';
import type { CodecPreference, NegotiatedAudio, RtpEndpoint } from '../sdp/sdpTypes.js';
import type { EncryptionPolicy } from '../srtp/srtpTypes.js';

/** Why a session ended; the calls layer maps it onto the call's endReason. */
export type SessionCloseReason =
  /** closeSession from the main process (BYE, hangup). */
  | 'normal'
  /** No RTP for media.timeoutInitialSeconds before the first packet, or media.timeoutSeconds after. */
  | 'media_timeout'
  /** The worker failed the session or died. */
  | 'media_error'
  /** The LiveKit room was deleted or the participant removed. */
  | 'room_closed'
  /** The pool was closed with the session still up. */
  | 'shutdown';

/** Failure codes a command can reject with (MediaCommandError.code). */
export type MediaErrorCode =
  | SdpErrorCode
  | 'ports_exhausted'
  | 'session_not_found'
  | 'session_exists'
  | 'bad_request'
  | 'internal'
  /** The worker did not answer within the request's timeout. */
  | 'timeout'
  /** The worker process died with the request outstanding. */
  | 'worker_died'
  /** The pool or worker is shutting down. */
  | 'worker_closed'
  /** Every worker is at its session limit, or none is running. */
  | 'capacity';

export const MEDIA_ERROR_CODES: readonly MediaErrorCode[] = [
  'sdp_malformed',
  'sdp_not_acceptable',
  'sdp_state',
  'ports_exhausted',
  'session_not_found',
  'session_exists',
  'bad_request',
  'internal',
  'timeout',
  'worker_died',
  'worker_closed',
  'capacity',
];

export interface ChannelError {
  code: MediaErrorCode;
  message: string;
}

// ---- Commands -------------------------------------------------------------------------------

export interface CreateSessionParams {
  /** Chosen by the main process, so events can be routed before the answer returns. */
  sessionId: string;
  /** The peer's SDP offer (inbound call, or an INVITE with SDP); null: we make the offer. */
  remoteOffer: string | null;
  /** For the worker's logs. */
  callId: string | null;
  /** The trunk's SRTP policy: what the answer accepts and the offer proposes; plain RTP if absent. */
  encryption?: EncryptionPolicy;
  /**
   * The answer is made now but not yet sent (the call still rings): the session sends nothing,
   * starts no ICE or DTLS and its media timeout stands until startMedia, so it can join its room
   * while ringing.
   */
  awaitingAnswer?: boolean;
}

export interface CreateSessionResult {
  /** Our SDP: the answer to remoteOffer, or our offer when there was none. */
  localSdp: string;
  type: 'answer' | 'offer';
  rtpPort: number;
  /** The agreed stream when answering; null while our offer awaits its answer. */
  media: NegotiatedAudio | null;
}

/** A re-INVITE with SDP: the peer's new offer on an existing session. */
export interface AnswerOfferParams {
  sessionId: string;
  sdp: string;
}

export interface AnswerOfferResult {
  localSdp: string;
  media: NegotiatedAudio;
}

export interface ApplyRemoteAnswerParams {
  sessionId: string;
  sdp: string;
  /** The SDP of a provisional response (early media): applied, the offer stays open for the 2xx. */
  provisional?: boolean;
}

export interface ApplyRemoteAnswerResult {
  media: NegotiatedAudio;
}

export interface ConnectRoomParams {
  sessionId: string;
  /** livekit-server URL (ws:// or wss://). */
  url: string;
  /** A join token minted by the main process for `identity`. */
  token: string;
  roomName: string;
  /** sip_<call id>. */
  identity: string;
  /** sip.callId, sip.from, sip.to, sip.trunk… */
  attributes: Record<string, string>;
}

export interface ConnectRoomResult {
  participantSid: string | null;
}

export type PlaySource =
  | { kind: 'url'; url: string }
  | { kind: 'tone'; frequencyHz: number; durationMs: number }
  | { kind: 'silence'; durationMs: number }
  /** Raw PCM, 48 kHz mono s16le, decoded beforehand by the main process (call flow playback, say). */
  | { kind: 'file'; path: string };

export interface PlayParams {
  sessionId: string;
  source: PlaySource;
  /** Towards the SIP leg, the room, or both. */
  target: 'sip' | 'room' | 'both';
  loop: boolean;
}

/** Returned when playback starts; playbackEnded reports its end. */
export interface PlayResult {
  playbackId: string;
}

export interface SendDtmfParams {
  sessionId: string;
  /** 0-9, *, #, A-D. */
  digits: string;
  /** Per digit; RFC 4733 end packets follow. Default chosen by the worker. */
  durationMs: number | null;
}

/** A digit the SIP peer sent outside RTP (SIP INFO), received by the main process. */
export interface InjectDtmfParams {
  sessionId: string;
  /** 0-9, *, #, A-D. */
  digit: string;
  /** From the INFO body when it says; null: the worker's default. */
  durationMs: number | null;
  source: 'sip_info';
}

/** Our answer went out (183 or 200): the session starts sending, ICE and its media timeout. */
export interface StartMediaParams {
  sessionId: string;
}

export interface HoldParams {
  sessionId: string;
  /** true puts the peer on hold (we offer sendonly), false resumes (sendrecv). */
  hold: boolean;
}

/** The offer to send in the re-INVITE; its answer goes to applyRemoteAnswer. */
export interface HoldResult {
  localSdp: string;
}

export interface CloseSessionParams {
  sessionId: string;
  reason: SessionCloseReason;
}

export interface CloseSessionResult {
  /** false when the session was already gone (closing twice is not an error). */
  closed: boolean;
  stats: SessionStats | null;
}

export interface StartRecordingParams {
  sessionId: string;
  format: RecordingFormat;
  /**
   * caller: the caller's audio alone (voicemail). both: the caller and what the caller hears
   * (the room's mix and anything played to the SIP leg), mixed into one mono track (whole calls).
   */
  tracks: 'caller' | 'both';
  /** The recording ends by itself (recordingEnded, reason max_duration) after this much audio. */
  maxDurationMs?: number;
}

/** ffmpeg is running and the file exists; recordingEnded reports the end, whatever causes it. */
export interface StartRecordingResult {
  /** rec_<hex>; the file is `<callId>-<recordingId>.<format>` in recording.dir. */
  recordingId: string;
  /** Absolute path of the file being written. */
  path: string;
}

export interface StopRecordingParams {
  sessionId: string;
  recordingId: string;
}

/** The finished file. Stopping a recording that already ended returns how it ended. */
export type StopRecordingResult = RecordingSummary;

export interface WorkerStatusParams {
  /** Nothing to say; present so every command has params. */
  detail?: 'basic';
}

export interface WorkerStatus {
  pid: number;
  workerIndex: number;
  sessions: number;
  /** RTP port leases held; 0 once every session is closed, or something leaked. */
  portsInUse: number;
  portRange: PortRange;
  rssBytes: number;
}

export interface ShutdownParams {
  reason: 'shutdown';
}

export interface ShutdownResult {
  closedSessions: number;
}

/** Every command: name → [params, result]. */
export interface MediaCommands {
  createSession: [CreateSessionParams, CreateSessionResult];
  answerOffer: [AnswerOfferParams, AnswerOfferResult];
  applyRemoteAnswer: [ApplyRemoteAnswerParams, ApplyRemoteAnswerResult];
  connectRoom: [ConnectRoomParams, ConnectRoomResult];
  play: [PlayParams, PlayResult];
  sendDtmf: [SendDtmfParams, Record<string, never>];
  injectDtmf: [InjectDtmfParams, Record<string, never>];
  hold: [HoldParams, HoldResult];
  startMedia: [StartMediaParams, Record<string, never>];
  startRecording: [StartRecordingParams, StartRecordingResult];
  stopRecording: [StopRecordingParams, StopRecordingResult];
  closeSession: [CloseSessionParams, CloseSessionResult];
  getWorkerStatus: [WorkerStatusParams, WorkerStatus];
  shutdown: [ShutdownParams, ShutdownResult];
}

export type MediaCommandName = keyof MediaCommands;
export type CommandParams<M extends MediaCommandName> = MediaCommands[M][0];
export type CommandResult<M extends MediaCommandName> = MediaCommands[M][1];

/** Commands addressed to one session (the SessionHandler implements these). */
export type SessionCommandName = Exclude<MediaCommandName, 'getWorkerStatus' | 'shutdown'>;

export const MEDIA_COMMAND_NAMES: readonly MediaCommandName[] = [
  'createSession',
  'answerOffer',
  'applyRemoteAnswer',
  'connectRoom',
  'play',
  'sendDtmf',
  'injectDtmf',
  'hold',
  'startMedia',
  'startRecording',
  'stopRecording',
  'closeSession',
  'getWorkerStatus',
  'shutdown',
];

// ---- Events ---------------------------------------------------------------------------------

export interface SessionStats {
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  bytesSent: number;
  /**
   * RTP packets the peer sent us, by their sequence numbers (RFC 3550 A.3: highest extended
   * sequence number − first + 1), over the whole session (a codec change keeps the count).
   */
  packetsExpected: number;
  /** Of those, the ones that never arrived (expected − received, never below 0). */
  packetsLost: number;
  /** RFC 3550 interarrival jitter of the peer's stream, latest estimate. */
  jitterMs: number;
  roundTripMs: number | null;
  /** E-model estimate (1–4.5); null until there is enough to estimate. */
  mos: number | null;
}

export interface FirstPacketEvent {
  sessionId: string;
  /** Where it came from: symmetric RTP sends back there. */
  from: RtpEndpoint;
  /** Epoch milliseconds. */
  at: number;
}

export interface DtmfEvent {
  sessionId: string;
  digit: string;
  durationMs: number;
  /**
   * rfc4733: from the SIP peer's RTP; sip_info: from the SIP peer's INFO (injectDtmf); room: a
   * LiveKit participant's SIP DTMF.
   */
  source: 'rfc4733' | 'sip_info' | 'room';
}

export interface MediaTimeoutEvent {
  sessionId: string;
  phase: 'initial' | 'established';
  silentMs: number;
}

/**
 * The session's receive and send figures: every couple of seconds while it has media
 * (RtpMediaSessionOptions.statsIntervalMs, whether or not the peer sends RTCP), and once more
 * when the worker ends the session on its own, just before sessionClosed.
 */
export interface StatsEvent {
  sessionId: string;
  stats: SessionStats;
}

export interface ParticipantEvent {
  sessionId: string;
  identity: string;
}

export interface PlaybackEndedEvent {
  sessionId: string;
  playbackId: string;
  reason: 'finished' | 'stopped' | 'failed';
}

/**
 * A recording ended, once per started recording, with its file finished (ffmpeg has exited).
 * A session that closes ends its recordings first: their recordingEnded comes before the
 * closeSession answer or the sessionClosed event. Not sent when the worker process dies: ffmpeg
 * then finishes the file on its own, at the path startRecording returned.
 */
export interface RecordingEndedEvent extends RecordingSummary {
  sessionId: string;
  recordingId: string;
  reason: RecordingEndReason;
  /** What failed, for reason 'error'; null otherwise. */
  message: string | null;
}

/** The worker ended a session on its own (a close command is answered, not evented). */
export interface SessionClosedEvent {
  sessionId: string;
  reason: SessionCloseReason;
  message: string | null;
}

/** Every event: name → payload. All are about one session. */
export interface MediaEvents {
  firstPacket: FirstPacketEvent;
  dtmf: DtmfEvent;
  mediaTimeout: MediaTimeoutEvent;
  stats: StatsEvent;
  participantJoined: ParticipantEvent;
  participantLeft: ParticipantEvent;
  playbackEnded: PlaybackEndedEvent;
  recordingEnded: RecordingEndedEvent;
  sessionClosed: SessionClosedEvent;
}

export type MediaEventName = keyof MediaEvents;

export const MEDIA_EVENT_NAMES: readonly MediaEventName[] = [
  'firstPacket',
  'dtmf',
  'mediaTimeout',
  'stats',
  'participantJoined',
  'participantLeft',
  'playbackEnded',
  'recordingEnded',
  'sessionClosed',
];

// ---- Wire messages --------------------------------------------------------------------------

/** What a worker needs to start; sent once as the first message. */
export interface WorkerInit {
  workerIndex: number;
  /** This worker's slice of media.rtpPortMin..rtpPortMax (see splitPortRange). */
  portRange: PortRange;
  /** Local address RTP sockets bind to. */
  bindAddress: string;
  /** Address written into SDP c= (what peers send to). */
  advertisedAddress: string;
  codecs: CodecPreference[];
  timeoutInitialSeconds: number;
  timeoutSeconds: number;
  /** Where recordings go (config recording.dir) and the ffmpeg to run; default data/recordings, ffmpeg on PATH. */
  recording?: RecordingInit;
}

export interface RecordingInit {
  dir: string;
  ffmpegPath?: string;
}

export type RequestMessage = {
  [M in MediaCommandName]: { type: 'request'; id: number; method: M; params: CommandParams<M> };
}[MediaCommandName];

export type EventMessage = {
  [E in MediaEventName]: { type: 'event'; event: E; data: MediaEvents[E] };
}[MediaEventName];

export type MainToWorkerMessage = { type: 'init'; init: WorkerInit } | RequestMessage;

export type ResponseMessage =
  | { type: 'response'; id: number; ok: true; result: CommandResult<MediaCommandName> }
  | { type: 'response'; id: number; ok: false; error: ChannelError };

export type WorkerToMainMessage = { type: 'ready'; pid: number } | ResponseMessage | EventMessage;
