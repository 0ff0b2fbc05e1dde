import type { FarEndBye } from '../../signalling/sipDialogLeg.js';
import type { IncomingRefer, ReferOutcome, ReferRequest } from '../../signalling/sipTransfer.js';
/**
 * A call's far end, as the call sees it: whoever is on the other side of the gateway from the
 * room. Today every leg is SIP (`signalling/` implements these over drachtio-srf); a WhatsApp
 * call in Graph mode or a browser-only call has a leg with no SIP dialog at all, and the call
 * code must not be able to tell. The interfaces live here, beside their users, and the
 * implementations match them structurally, so `signalling/` never imports `calls/`.
 */

/** A far end that called in and waits for an answer (an INVITE, before any final response). */
export interface IncomingLeg {
  /** The far end's SDP offer; null for an offerless INVITE (the answer then carries our offer). */
  readonly offer: string | null;
  /** The call this leg now belongs to; called once, before it rings (a crash journal keys by it). */
  belongsTo(callId: string): void;
  /** Tells the far end it rings (180 Ringing). */
  ring(): void;
  /** Early media: our SDP answer goes out before the answer (183 Session Progress). */
  earlyMedia(localSdp: string): void;
  /** Answers with our SDP (200 OK); resolves once the leg is established. */
  answer(localSdp: string): Promise<AnsweredLeg>;
  /** Refuses the call with a final status and a reason in words; a no-op once one was sent. */
  refuse(status: number, why: string, headers?: Record<string, string>): void;
  /** The far end gave up before the answer (CANCEL). */
  onCancel(listener: () => void): void;
}

/**
 * An established far end. Its events are kept until someone listens, so a request that comes
 * in the same instant as the answer (a re-INVITE or INFO read with the ACK) is not lost or
 * answered with stale media.
 */
export interface AnsweredLeg {
  /** False once the leg has ended, from either side. */
  readonly connected: boolean;
  /** Ends the leg from our side (BYE); resolves once that went out, rejects if it failed. */
  hangup(): Promise<void>;
  /** The far end ended the leg (BYE). Called at once if it already had. */
  onEnded(listener: (bye?: FarEndBye) => void): void;
  /**
   * New media from the far end (a re-INVITE: hold, resume, codec change): `answer` returns our
   * SDP answer; a rejection refuses the offer (488) and keeps the media as it was.
   */
  onOffer(answer: (offer: string) => Promise<string>): void;
  /** A digit the far end sent out of band (SIP INFO); in-band RFC 4733 digits are the media's. */
  onDtmf(listener: (digit: string, durationMs: number | null) => void): void;
  /** Call transfer by REFER, both ways; absent on a leg with no SIP dialog (WhatsApp Graph). */
  readonly transfers?: LegTransfers | undefined;
}

/** REFER on an answered SIP leg (signalling/sipTransfer.ts implements it). */
export interface LegTransfers {
  /** An outgoing REFER waits for its outcome. */
  readonly busy: boolean;
  /** Sends REFER and follows its NOTIFYs; resolves with the outcome, never rejects. */
  refer(request: ReferRequest): Promise<ReferOutcome>;
  /** Who carries out a REFER from the far end; without a listener it is refused 403. */
  onRefer(listener: (refer: IncomingRefer) => void): void;
}
