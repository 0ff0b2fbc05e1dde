/**
 * Where a live call is in its life. `ringing`: it rings (inbound, waiting for a decision or its
 * ring timeout; outbound, being dialled). `answering`: an accept or voicemail is setting up its
 * media and 200 OK, and nothing else may act on it until that is done. `answered`: in progress
 * (or taking a message). `ending`: its end is being recorded and its resources released.
 */
export type CallPhase = 'ringing' | 'answering' | 'answered' | 'ending';

/** What the code running a call's current phase does with a hangup or a gateway stop. */
export interface PhaseControl {
  /** A hangup command (REST, the event channel, a flow's hangup verb). */
  hangup(): void;
  /** The gateway is stopping; resolves once the far end was told (BYE, CANCEL, a final response). */
  shutdown(): Promise<void>;
}

/** Per-call choices of an accept. */
export interface AnswerOptions {
  /** This call's limit instead of calls.maxDurationSeconds. */
  maxDurationSeconds?: number | undefined;
}

/** What an inbound call ringing while it waits for an action can be told to do. */
export interface AwaitingDecision extends PhaseControl {
  /** A reject action: 486/600 read as busy, anything else as a refusal. */
  reject(status: number): void;
  /** Answers the call into its room; resolves once it is in progress. */
  accept(options?: AnswerOptions): Promise<void>;
  /** Another 180 Ringing (a call flow's ringing verb). */
  ring(): void;
  /** Early media: media and room set up, 183 with SDP sent; the call keeps ringing. */
  preAccept(): Promise<void>;
}
