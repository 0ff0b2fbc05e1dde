import type { Logger } from 'pino';
import type { FarEndBye } from '../sipDialogLeg.js';
import { WHATSAPP_DURATION_HEADER } from '../whatsappHeaders.js';
import type { GraphApi } from './graphApi.js';

/** How a Graph call ended from Meta's side (a terminate webhook). */
export interface GraphTermination {
  durationSeconds: number | undefined;
}

/**
 * A WhatsApp call in Graph mode, seen as a leg: no SIP dialog, its signalling is call actions
 * (`pre_accept`, `accept`, `reject`, `terminate`) sent to the provider and `terminate` webhooks
 * from it. It matches the call layer's IncomingLeg and AnsweredLeg, so the call code answers it
 * exactly as it answers an INVITE: 183 becomes pre_accept, 200 becomes accept, a refusal becomes
 * reject, BYE becomes terminate, and Meta's terminate is the CANCEL or BYE.
 */
export class GraphLeg {
  private callId: string | undefined;
  private refused = false;
  private answered = false;
  /** Who ended the leg, once it has ended: a terminate from us, or Meta's terminate webhook. */
  private endedBy: 'us' | 'them' | null = null;
  private termination: GraphTermination | undefined;
  private readonly cancelListeners: (() => void)[] = [];
  private readonly endListeners: ((bye?: FarEndBye) => void)[] = [];
  private finishListeners: (() => void)[] | null = [];

  constructor(
    readonly wacid: string,
    readonly offer: string,
    private readonly api: GraphApi,
    private readonly log: Logger,
  ) {}

  /** The leg of a call the business places: no offer of the far end's, answered once ACCEPTED. */
  static outgoing(wacid: string, api: GraphApi, log: Logger): GraphLeg {
    return new GraphLeg(wacid, '', api, log);
  }

  /** The callee accepted a call the business placed (status ACCEPTED). */
  accepted(): void {
    if (!this.endedBy) this.answered = true;
  }

  get connected(): boolean {
    return this.answered && this.endedBy === null;
  }

  belongsTo(callId: string): void {
    this.callId = callId;
  }

  /** WhatsApp rings the user's phone itself; the business has nothing to send. */
  ring(): void {}

  /** pre_accept: media may flow before the accept (Meta's advice, so the first words are heard). */
  earlyMedia(localSdp: string): void {
    this.send('pre_accept', localSdp).catch((error: unknown) =>
      this.log.warn({ err: error, callId: this.callId, wacid: this.wacid }, 'pre_accept failed'),
    );
  }

  async answer(localSdp: string): Promise<GraphLeg> {
    if (this.endedBy) throw new Error(`WhatsApp call ${this.wacid} ended before the accept`);
    await this.send('accept', localSdp);
    this.answered = true;
    return this;
  }

  refuse(status: number, why: string): void {
    if (this.refused || this.answered || this.endedBy) return;
    this.refused = true;
    this.finish();
    this.log.info({ callId: this.callId, wacid: this.wacid, status, why }, 'rejecting WhatsApp call');
    this.send('reject').catch((error: unknown) =>
      this.log.warn({ err: error, callId: this.callId, wacid: this.wacid }, 'reject failed'),
    );
  }

  onCancel(listener: () => void): void {
    if (this.endedBy === 'them' && !this.answered) listener();
    else this.cancelListeners.push(listener);
  }

  /** terminate from our side (the call layer's BYE). */
  async hangup(): Promise<void> {
    if (this.endedBy) return;
    this.endedBy = 'us';
    this.finish();
    await this.send('terminate');
  }

  /** Meta ended the answered call (its terminate webhook). */
  onEnded(listener: (bye?: FarEndBye) => void): void {
    if (this.endedBy === 'them' && this.answered) listener(this.bye());
    else this.endListeners.push(listener);
  }

  /**
   * The leg is over, whichever way: our terminate or reject, or Meta's terminate. Once, also
   * for a listener that comes later; whoever keeps legs by wacid forgets it here.
   */
  onFinished(listener: () => void): void {
    if (this.finishListeners) this.finishListeners.push(listener);
    else listener();
  }

  /** Graph calls are not renegotiated: Meta sends no new offer mid-call. */
  onOffer(): void {}

  /** DTMF of a Graph call is RFC 4733 in its media, never out of band. */
  onDtmf(): void {}

  /**
   * Meta's terminate webhook: before the accept it is the caller giving up (CANCEL), after it
   * the caller hanging up (BYE). Repeats do nothing.
   */
  terminated(termination: GraphTermination): void {
    if (this.endedBy) return;
    this.endedBy = 'them';
    this.termination = termination;
    this.finish();
    if (this.answered) for (const listener of this.endListeners.splice(0)) listener(this.bye());
    else for (const listener of this.cancelListeners.splice(0)) listener();
  }

  private finish(): void {
    const listeners = this.finishListeners;
    this.finishListeners = null;
    for (const listener of listeners ?? []) listener();
  }

  /** The far end's end, in the form the call layer reads (Meta's duration as on a SIP BYE). */
  private bye(): FarEndBye {
    const seconds = this.termination?.durationSeconds;
    return {
      header: (name) =>
        name.toLowerCase() === WHATSAPP_DURATION_HEADER && seconds !== undefined
          ? String(Math.round(seconds))
          : undefined,
    };
  }

  private send(action: 'pre_accept' | 'accept' | 'reject' | 'terminate', sdp?: string): Promise<void> {
    return this.api.callAction(this.wacid, action, sdp);
  }
}
