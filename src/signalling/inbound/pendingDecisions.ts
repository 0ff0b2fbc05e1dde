import type { AnswerOptions } from '../../calls/inboundAnswer.js';

/** What an inbound call waiting for an action can be told to do. */
export interface AwaitingDecision {
  reject(status: number): void;
  /** Answers the call into its room; resolves once it is in progress. */
  accept(options?: AnswerOptions): Promise<void>;
  /** Another 180 Ringing (a call flow's ringing verb). */
  ring(): void;
  /** Early media: media and room set up, 183 with SDP sent; the call keeps ringing. */
  preAccept(): Promise<void>;
  /** A hangup command before answer: the caller is refused, the call recorded as hung up. */
  hangup(): void;
  /** The gateway is stopping: end the call now rather than leave it ringing. */
  shutdown(): void;
}

/**
 * Inbound calls that ring and wait for an accept/reject action (defaultAnswerBehavior: webhook),
 * by call id. The actions API finds them here; a call leaves the moment it stops waiting.
 */
export class PendingDecisions {
  private readonly waiting = new Map<string, AwaitingDecision>();

  add(callId: string, call: AwaitingDecision): void {
    this.waiting.set(callId, call);
  }

  remove(callId: string): void {
    this.waiting.delete(callId);
  }

  get(callId: string): AwaitingDecision | undefined {
    return this.waiting.get(callId);
  }

  get size(): number {
    return this.waiting.size;
  }

  all(): AwaitingDecision[] {
    return [...this.waiting.values()];
  }
}
