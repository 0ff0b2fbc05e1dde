import { createResponse } from '../message/createResponse.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/messageTypes.js';
import type { ServerTransaction } from '../transaction/serverTransaction.js';
import type { TimerConfig } from '../transaction/timerConfig.js';
import type { MessageSource } from '../transport/transportTypes.js';
import { dialogIdOf } from '../wire/sipMeta.js';
import { emitCdr, forwardToApp } from './appReporting.js';
import type { CoreContext } from './coreContext.js';
import type { PendingServerRequest } from './coreTypes.js';
import { tagOf } from './dialogStore.js';

/** True when a Require/Supported-style header of the message lists `option` (case-insensitive). */
export function listsOption(message: SipMessage, header: string, option: string): boolean {
  const wanted = option.toLowerCase();
  return message.headers
    .getAll(header)
    .some((value) => value.split(',').some((token) => token.trim().toLowerCase() === wanted));
}

/** RFC 3262 7.2: `RAck: <response-num> <CSeq-num> <method>`; undefined when malformed. */
export function parseRAck(value: string): { rseq: number; cseq: number; method: string } | undefined {
  const match = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value);
  if (!match) return undefined;
  const rseq = Number(match[1]);
  const cseq = Number(match[2]);
  if (rseq < 1 || rseq > 0xffffffff || cseq > 0xffffffff) return undefined;
  return { rseq, cseq, method: (match[3] ?? '').toUpperCase() };
}

/** Intervals of a reliable provisional's retransmissions: T1, 2·T1, 4·T1… while under 64·T1 in all. */
export function reliableRetransmitDelays(T1: number): number[] {
  const delays: number[] = [];
  let elapsed = 0;
  for (let interval = T1; elapsed + interval < 64 * T1; interval *= 2) {
    delays.push(interval);
    elapsed += interval;
  }
  return delays;
}

/** A send of ours waiting until the outstanding reliable provisional is acknowledged. */
interface Queued {
  run: () => Promise<void>;
  fail: (reason: string) => void;
}

/** RFC 3262 UAS state of one INVITE server transaction. */
export interface ReliableState {
  nextRSeq: number;
  /** The reliable provisional awaiting its PRACK. */
  outstanding?: { rseq: number; response: SipResponse; timers: NodeJS.Timeout[] };
  lastAcked?: number;
  queue: Queued[];
}

/**
 * Reliable provisional responses (RFC 3262) for INVITEs we answer, as drachtio-server offers them
 * to apps: an app's 1xx carrying `Require: 100rel` (or any 1xx to an INVITE that requires 100rel)
 * goes out with `Require: 100rel` and an `RSeq`, retransmitted at T1, 2·T1, … until its PRACK
 * (matched by RAck) arrives; the engine answers the PRACK 200 itself and hands it to the app, as
 * drachtio-server does. While one is unacknowledged a further reliable provisional or a 2xx waits
 * (RFC 3262 3); after 64·T1 without PRACK the INVITE is refused 504 and the waiting sends fail.
 */
export class ReliableProvisionals {
  private readonly states = new Map<PendingServerRequest, ReliableState>();

  constructor(private readonly ctx: CoreContext) {}

  private get timers(): TimerConfig {
    return this.ctx.deps.transactions.timers;
  }

  /** Whether this response to this request is to be sent reliably. */
  wants(pending: PendingServerRequest, response: SipResponse): boolean {
    const { request } = pending;
    if (request.method !== 'INVITE' || pending.dialogId !== '') return false;
    if (response.status <= 100 || response.status >= 200) return false;
    const offered = listsOption(request, 'Supported', '100rel') || listsOption(request, 'Require', '100rel');
    if (!offered) {
      // The far end cannot PRACK: never claim a reliable provisional to it.
      removeOption(response, 'Require', '100rel');
      return false;
    }
    return listsOption(request, 'Require', '100rel') || listsOption(response, 'Require', '100rel');
  }

  /** True when an unacknowledged reliable provisional holds back this send. */
  busy(pending: PendingServerRequest): boolean {
    const state = this.states.get(pending);
    return state?.outstanding !== undefined || (state?.queue.length ?? 0) > 0;
  }

  enqueue(pending: PendingServerRequest, run: () => Promise<void>, fail: (reason: string) => void): void {
    this.stateOf(pending).queue.push({ run, fail });
  }

  /**
   * Gives the response its RSeq and `Require: 100rel` and makes it the outstanding one at once, so
   * a 2xx the app sends while it is on its way already waits (call just before it is sent).
   */
  stamp(pending: PendingServerRequest, response: SipResponse): number {
    const state = this.stateOf(pending);
    const rseq = state.nextRSeq++;
    if (!listsOption(response, 'Require', '100rel')) response.headers.append('Require', '100rel');
    response.headers.set('RSeq', String(rseq));
    state.outstanding = { rseq, response, timers: [] };
    return rseq;
  }

  /** The reliable provisional could not be sent: nothing is outstanding, the next send may go. */
  notSent(pending: PendingServerRequest): void {
    const state = this.states.get(pending);
    if (!state?.outstanding) return;
    state.outstanding = undefined;
    void this.drain(state);
  }

  /** The reliable provisional went out: retransmit it until its PRACK, give up after 64·T1. */
  sent(pending: PendingServerRequest, response: SipResponse, rseq: number): void {
    const state = this.stateOf(pending);
    if (state.outstanding?.rseq !== rseq) return; // acknowledged (or given up) meanwhile
    const timers = state.outstanding.timers;
    let at = 0;
    for (const delay of reliableRetransmitDelays(this.timers.T1)) {
      at += delay;
      timers.push(
        setTimeout(() => {
          if (pending.transaction.state === 'proceeding') void pending.transaction.respond(response);
        }, at),
      );
    }
    timers.push(setTimeout(() => this.giveUp(pending, state), 64 * this.timers.T1));
  }

  /**
   * A PRACK from the network. Returns false when it belongs to no INVITE of ours still in its
   * early state (the caller then treats it as any in-dialog request).
   */
  onPrack(request: SipRequest, transaction: ServerTransaction, source: MessageSource): boolean {
    const pending = this.pendingFor(request);
    if (!pending) return false;
    const state = this.states.get(pending);
    const rack = parseRAck(request.headers.get('RAck') ?? '');
    const inviteCseq = Number.parseInt(pending.request.headers.get('CSeq') ?? '', 10);
    const matches =
      rack !== undefined &&
      rack.method === 'INVITE' &&
      rack.cseq === inviteCseq &&
      (rack.rseq === state?.outstanding?.rseq || rack.rseq === state?.lastAcked);
    if (!state || !matches || !rack) {
      void transaction.respond(createResponse(request, 481, { reason: 'No matching reliable provisional' }));
      return true;
    }
    void transaction.respond(createResponse(request, 200, { toTag: pending.toTag }));
    if (rack.rseq !== state.outstanding?.rseq) return true; // a repeat of one already acknowledged
    this.acknowledge(state);
    if (pending.app.state !== 'closed') {
      forwardToApp(
        pending.app,
        request,
        source,
        this.ctx.deps.newId(),
        uasDialogId(pending),
        this.ctx.deps.now(),
      );
    }
    void this.drain(state);
    return true;
  }

  /** Stops every timer (engine close). */
  clear(): void {
    for (const state of this.states.values()) this.acknowledge(state);
    this.states.clear();
  }

  private async drain(state: ReliableState): Promise<void> {
    while (state.outstanding === undefined) {
      const next = state.queue.shift();
      if (!next) return;
      await next.run();
    }
  }

  private giveUp(pending: PendingServerRequest, state: ReliableState): void {
    if (this.states.get(pending) !== state || !state.outstanding) return;
    this.acknowledge(state);
    const waiting = state.queue.splice(0);
    for (const queued of waiting) queued.fail('reliable provisional response not acknowledged (no PRACK)');
    if (pending.transaction.state !== 'proceeding') return;
    pending.finalSent = true;
    const refusal = createResponse(pending.request, 504, {
      toTag: pending.toTag,
      reason: 'No PRACK for reliable provisional',
    });
    void pending.transaction.respond(refusal);
    emitCdr(this.ctx.deps.registry, 'stop', 'application', refusal, this.ctx.deps.now(), 'call-rejected');
  }

  private acknowledge(state: ReliableState): void {
    if (!state.outstanding) return;
    for (const timer of state.outstanding.timers) clearTimeout(timer);
    state.lastAcked = state.outstanding.rseq;
    state.outstanding = undefined;
  }

  private forget(pending: PendingServerRequest): void {
    const state = this.states.get(pending);
    if (!state) return;
    this.acknowledge(state);
    for (const queued of state.queue.splice(0)) queued.fail('transaction ended');
    this.states.delete(pending);
  }

  private stateOf(pending: PendingServerRequest): ReliableState {
    let state = this.states.get(pending);
    if (!state) {
      // RFC 3262 3: the first RSeq is chosen at random between 1 and 2**31 - 1.
      state = { nextRSeq: 1 + Math.floor(Math.random() * 0x3fffffff), queue: [] };
      this.states.set(pending, state);
      pending.transaction.once('terminated', () => this.forget(pending));
    }
    return state;
  }

  private pendingFor(prack: SipRequest): PendingServerRequest | undefined {
    const callId = prack.headers.get('Call-ID') ?? '';
    const fromTag = tagOf(prack, 'From');
    const toTag = tagOf(prack, 'To');
    for (const pending of this.states.keys()) {
      const invite = pending.request;
      if (
        (invite.headers.get('Call-ID') ?? '') === callId &&
        tagOf(invite, 'From') === fromTag &&
        pending.toTag === toTag
      ) {
        return pending;
      }
    }
    return undefined;
  }
}

/** The drachtio dialog id of an initial INVITE we answer. */
function uasDialogId(pending: PendingServerRequest): string {
  return dialogIdOf(pending.request.headers.get('Call-ID') ?? '', tagOf(pending.request, 'From'));
}

function removeOption(message: SipMessage, header: string, option: string): void {
  const values = message.headers.getAll(header);
  if (values.length === 0) return;
  const kept = values
    .flatMap((value) => value.split(','))
    .map((token) => token.trim())
    .filter((token) => token !== '' && token.toLowerCase() !== option.toLowerCase());
  message.headers.remove(header);
  for (const token of kept) message.headers.append(header, token);
}
