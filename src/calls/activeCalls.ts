import type { MediaSession } from '../media/workers/MediaSession.js';

/** An answered call the API can still act on. */
export interface ActiveCall {
  /** The SIP leg's media, once it is answered (call flows play and gather on it). */
  readonly session?: MediaSession;
  hangup(): void;
  /** The gateway is stopping: BYE to the caller; resolves once the BYE went out (or failed). */
  shutdown(): Promise<void>;
}

/** Answered calls by call id, from 200 OK until they end. */
export class ActiveCalls {
  private readonly calls = new Map<string, ActiveCall>();

  add(callId: string, call: ActiveCall): void {
    this.calls.set(callId, call);
  }

  remove(callId: string): void {
    this.calls.delete(callId);
  }

  get(callId: string): ActiveCall | undefined {
    return this.calls.get(callId);
  }

  all(): ActiveCall[] {
    return [...this.calls.values()];
  }

  get size(): number {
    return this.calls.size;
  }
}
