import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type CandidatePair, CheckList } from './checkList.js';
import { ConsentFreshness } from './consentFreshness.js';
import { candidatePriority, LOCAL_PREFERENCE, TYPE_PREFERENCE } from './iceCandidate.js';
import type { IceEndpoint } from './iceTypes.js';
import {
  DEFAULT_ICE_TIMERS,
  type IceAgentOptions,
  type IceCandidate,
  type IceCredentials,
  type IceRemoteDescription,
  type IceRole,
  type IceTimers,
} from './iceTypes.js';
import {
  type DecodedStun,
  decodeStun,
  encodeStun,
  hasValidFingerprint,
  newTransactionId,
  STUN_BINDING,
  type StunMessage,
  verifyIntegrity,
} from './stunMessage.js';
import { StunTransactions } from './stunTransactions.js';

export interface IceAgentEvents {
  selected: [IceEndpoint];
  failed: [string];
  consentLost: [string];
}

type Purpose = 'check' | 'nominate' | 'consent';

/** What a pending request was for, kept with its transaction. */
interface CheckContext {
  purpose: Purpose;
  endpoint: IceEndpoint;
  /** Null for consent requests, which outlive the check list across a restart. */
  pair: CandidatePair | null;
  /** Our role when it left: a 487 to a request sent in an older role is no conflict any more. */
  role: IceRole;
  /** The password it was keyed with, which its response must be keyed with too. */
  remotePwd: string;
}

const same = (a: IceEndpoint, b: IceEndpoint): boolean => a.address === b.address && a.port === b.port;

/**
 * A full ICE agent (RFC 8445) for one stream, one component and one host candidate, on a socket
 * it does not own: the caller hands it the STUN datagrams and it sends through `send`. It checks
 * pairs, nominates (regular nomination) when controlling, follows USE-CANDIDATE when controlled,
 * settles role conflicts, and keeps RFC 7675 consent on the selected pair.
 */
export class IceAgent extends EventEmitter<IceAgentEvents> {
  private readonly timers: IceTimers;
  private readonly tieBreaker: bigint;
  private readonly localCandidate: IceCandidate;
  /** The PRIORITY our checks carry: that of a peer-reflexive candidate of ours (§7.1.1). */
  private readonly prflxPriority: number;
  private local: IceCredentials;
  private currentRole: IceRole;
  private remote: IceRemoteDescription | null = null;
  private readonly checks: CheckList;
  private readonly transactions: StunTransactions<CheckContext>;
  private readonly consent: ConsentFreshness;
  private selected: IceEndpoint | null = null;
  private nominating: CandidatePair | null = null;
  /** Between setRemote (or a restart) and a selection or the failure timeout. */
  private checking = false;
  private pacer: NodeJS.Timeout | undefined;
  private failTimer: NodeJS.Timeout | undefined;
  private prflxCount = 0;
  private closed = false;

  constructor(private readonly options: IceAgentOptions) {
    super();
    this.timers = { ...DEFAULT_ICE_TIMERS, ...options.timers };
    this.tieBreaker = options.tieBreaker ?? randomBytes(8).readBigUInt64BE(0);
    this.local = options.local;
    this.localCandidate = options.localCandidate;
    this.currentRole = options.role;
    const localPreference = Math.floor(this.localCandidate.priority / 256) % 65536 || LOCAL_PREFERENCE;
    this.prflxPriority = candidatePriority(TYPE_PREFERENCE.prflx, localPreference, 1);
    this.checks = new CheckList(this.localCandidate);
    this.transactions = new StunTransactions((data, to) => this.transmit(data, to));
    this.consent = new ConsentFreshness({
      intervalMs: this.timers.consentIntervalMs,
      timeoutMs: this.timers.consentTimeoutMs,
      sendRequest: () => this.sendConsentRequest(),
      onLost: () => this.onConsentLost(),
    });
  }

  get selectedPair(): IceEndpoint | null {
    return this.selected ? { ...this.selected } : null;
  }

  get role(): IceRole {
    return this.currentRole;
  }

  get localCredentials(): IceCredentials {
    return { ...this.local };
  }

  /**
   * The far end's ICE description, from an offer or answer (again on each re-INVITE). New
   * credentials are an ICE restart (RFC 8445 §9): checks start over, media stays on the old pair
   * until a new one is selected. `local`, if given, replaces our credentials, as the SDP we send
   * with a restart must carry new ones too (RFC 8839 §4.4.1.1.1).
   */
  setRemote(remote: IceRemoteDescription, local?: IceCredentials): void {
    if (this.closed) return;
    const previous = this.remote;
    const restart =
      previous !== null &&
      (previous.credentials.ufrag !== remote.credentials.ufrag ||
        previous.credentials.pwd !== remote.credentials.pwd);
    if (local) this.local = local;
    // An ice-lite peer is always controlled; against it we must nominate (RFC 8445 §6.1.1).
    if (remote.lite && this.currentRole !== 'controlling') this.switchRole();
    if (restart) {
      this.transactions.cancelWhere((c) => c.purpose !== 'consent');
      this.checks.clear();
      this.nominating = null;
    }
    this.remote = remote;
    for (const candidate of remote.candidates) this.checks.add(candidate, this.isControlling());
    if (restart || (previous === null && this.selected === null)) this.startChecking();
    this.pump();
  }

  /** One STUN datagram from the call's socket. Anything that is not a usable STUN message is dropped. */
  handleStun(data: Buffer, from: IceEndpoint): void {
    if (this.closed) return;
    const message = decodeStun(data);
    if (!message || message.method !== STUN_BINDING) return;
    // A bad FINGERPRINT means it was not STUN after all (RFC 8445 §7.3).
    if (message.fingerprintOffset !== null && !hasValidFingerprint(message, data)) return;
    if (message.class === 'request') this.onRequest(message, data, from);
    else if (message.class === 'success' || message.class === 'error') this.onResponse(message, data, from);
  }

  /** Stops every timer; afterwards nothing is sent or emitted. Safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopChecking();
    this.transactions.clear();
    this.consent.stop();
  }

  // --- Requests from the far end (RFC 8445 §7.3) ---

  private onRequest(message: DecodedStun, raw: Buffer, from: IceEndpoint): void {
    if (
      message.fingerprintOffset === null ||
      message.username === undefined ||
      message.integrityOffset === null
    ) {
      this.reply(message, from, { errorCode: { code: 400, reason: 'Bad Request' } }, false);
      return;
    }
    if (
      !message.username.startsWith(`${this.local.ufrag}:`) ||
      !verifyIntegrity(message, raw, this.local.pwd)
    ) {
      this.reply(message, from, { errorCode: { code: 401, reason: 'Unauthorized' } }, false);
      return;
    }
    if (!this.settleRoleConflict(message)) {
      this.reply(message, from, { errorCode: { code: 487, reason: 'Role Conflict' } }, true);
      return;
    }
    this.reply(message, from, { xorMappedAddress: from }, true);
    this.onCheckReceived(message, from);
  }

  /** RFC 8445 §7.3.1.1: false when we keep our role and the far end must change (answer 487). */
  private settleRoleConflict(message: StunMessage): boolean {
    if (this.remote?.lite) return true;
    if (this.currentRole === 'controlling' && message.iceControlling !== undefined) {
      if (this.tieBreaker >= message.iceControlling) return false;
      this.switchRole();
    } else if (this.currentRole === 'controlled' && message.iceControlled !== undefined) {
      if (this.tieBreaker < message.iceControlled) return false;
      this.switchRole();
    }
    return true;
  }

  /** Peer-reflexive candidates (§7.3.1.3), triggered checks (§7.3.1.4), nomination (§7.3.1.5). */
  private onCheckReceived(message: StunMessage, from: IceEndpoint): void {
    let pair = this.checks.find(from) ?? null;
    if (!pair) {
      this.prflxCount += 1;
      const candidate: IceCandidate = {
        foundation: `prflx${this.prflxCount}`,
        component: 1,
        transport: 'udp',
        priority: message.priority ?? this.prflxPriority,
        address: from.address,
        port: from.port,
        type: 'prflx',
      };
      pair = this.checks.add(candidate, this.isControlling());
      if (!pair) return;
    }
    if (this.currentRole === 'controlled' && message.useCandidate) {
      if (this.selected && same(this.selected, pair.endpoint) && !this.checking) return;
      if (pair.state === 'succeeded') {
        this.select(pair);
        return;
      }
      pair.nominateOnSuccess = true;
    }
    // Before setRemote the triggered check waits in the queue; after a selection none is needed.
    if (pair.state === 'in-progress' || pair.state === 'succeeded') return;
    if (this.checking || this.remote === null) {
      this.checks.trigger(pair);
      this.pump();
    } else if (pair.nominateOnSuccess) {
      this.sendCheck(pair, 'check');
    }
  }

  private reply(
    request: StunMessage,
    to: IceEndpoint,
    attributes: Partial<StunMessage>,
    signed: boolean,
  ): void {
    const klass = attributes.errorCode ? 'error' : 'success';
    const response: StunMessage = {
      class: klass,
      method: STUN_BINDING,
      transactionId: request.transactionId,
      ...attributes,
    };
    this.transmit(encodeStun(response, signed ? { password: this.local.pwd } : {}), to);
  }

  // --- Our checks and their responses (RFC 8445 §7.2) ---

  private startChecking(): void {
    this.stopChecking();
    this.checking = true;
    this.failTimer = setTimeout(() => this.onCheckingTimeout(), this.timers.failAfterMs);
  }

  private stopChecking(): void {
    this.checking = false;
    clearTimeout(this.pacer);
    clearTimeout(this.failTimer);
    this.pacer = undefined;
    this.failTimer = undefined;
  }

  /** Sends the next check now if Ta has passed since the last, and keeps doing so while there is work. */
  private pump(): void {
    if (this.pacer || this.closed || !this.checking || this.remote === null) return;
    const pair = this.checks.next();
    if (!pair) return;
    this.sendCheck(pair, 'check');
    this.pacer = setTimeout(() => {
      this.pacer = undefined;
      this.pump();
    }, this.timers.checkPacingMs);
  }

  private sendCheck(pair: CandidatePair, purpose: 'check' | 'nominate'): void {
    pair.state = 'in-progress';
    this.sendRequest(purpose, pair.endpoint, pair);
  }

  private sendRequest(purpose: Purpose, endpoint: IceEndpoint, pair: CandidatePair | null): void {
    const remote = this.remote;
    if (!remote) return;
    const id = newTransactionId();
    const controlling = this.isControlling();
    const request: StunMessage = {
      class: 'request',
      method: STUN_BINDING,
      transactionId: id,
      username: `${remote.credentials.ufrag}:${this.local.ufrag}`,
      priority: this.prflxPriority,
      useCandidate: purpose === 'nominate' ? true : undefined,
      iceControlling: controlling ? this.tieBreaker : undefined,
      iceControlled: controlling ? undefined : this.tieBreaker,
    };
    const consent = purpose === 'consent';
    this.transactions.start({
      id,
      packet: encodeStun(request, { password: remote.credentials.pwd }),
      to: endpoint,
      context: { purpose, endpoint, pair, role: this.currentRole, remotePwd: remote.credentials.pwd },
      // Consent requests are not retransmitted; one that goes unanswered just does not refresh.
      attempts: consent ? 1 : this.timers.maxCheckAttempts,
      rtoMs: consent ? this.timers.consentTimeoutMs : this.timers.checkRetransmitMs,
      onTimeout: (context) => this.onCheckFailed(context),
    });
  }

  private onResponse(message: DecodedStun, raw: Buffer, from: IceEndpoint): void {
    const context = this.transactions.peek(message.transactionId);
    // An unauthenticated response is treated as never received (RFC 5389 §10.1.3).
    if (!context || !verifyIntegrity(message, raw, context.remotePwd)) return;
    this.transactions.take(message.transactionId);
    if (message.class === 'error') {
      this.onErrorResponse(context, message.errorCode?.code ?? 0);
      return;
    }
    // A response from elsewhere than the request went means a non-symmetric path (§7.2.5.2.1).
    if (!same(from, context.endpoint)) {
      this.onCheckFailed(context);
      return;
    }
    if (this.selected && same(this.selected, context.endpoint)) this.consent.refreshed();
    const pair = context.pair;
    if (context.purpose === 'consent' || !pair) return;
    pair.state = 'succeeded';
    if (this.currentRole === 'controlling' && context.purpose === 'nominate') this.select(pair);
    else if (this.currentRole === 'controlled' && pair.nominateOnSuccess) this.select(pair);
    else this.maybeNominate();
    this.pump();
  }

  private onErrorResponse(context: CheckContext, code: number): void {
    const pair = context.pair;
    if (code !== 487 || !pair || this.remote?.lite) {
      this.onCheckFailed(context);
      return;
    }
    // §7.2.5.1: take the other role than the request claimed, and check the pair again.
    if (context.role === this.currentRole) this.switchRole();
    if (this.checking) {
      this.checks.trigger(pair);
      this.pump();
    }
  }

  private onCheckFailed(context: CheckContext): void {
    const pair = context.pair;
    if (context.purpose === 'consent' || !pair) return;
    pair.state = 'failed';
    if (this.nominating === pair) this.nominating = null;
    this.maybeNominate();
    this.pump();
  }

  /**
   * Regular nomination (§8.1.1): the controlling side repeats a succeeded check with
   * USE-CANDIDATE. Checks go best pair first, so the first pair to succeed is nominated rather than
   * waiting for the slower, lower-priority ones.
   */
  private maybeNominate(): void {
    if (this.currentRole !== 'controlling' || this.nominating || !this.checking || this.closed) return;
    const best = this.checks.bestSucceeded();
    if (!best) return;
    this.nominating = best;
    this.sendCheck(best, 'nominate');
  }

  private switchRole(): void {
    this.currentRole = this.isControlling() ? 'controlled' : 'controlling';
    this.checks.reprioritise(this.isControlling());
    if (this.nominating) {
      this.transactions.cancelWhere((c) => c.purpose === 'nominate');
      this.nominating.state = 'succeeded';
      this.nominating = null;
    }
    this.maybeNominate();
  }

  private isControlling(): boolean {
    return this.currentRole === 'controlling';
  }

  private select(pair: CandidatePair): void {
    const previous = this.selected;
    this.selected = { ...pair.endpoint };
    this.nominating = null;
    this.stopChecking();
    this.transactions.cancelWhere((c) => c.purpose !== 'consent');
    this.consent.start();
    if (!previous || !same(previous, pair.endpoint)) this.emit('selected', { ...pair.endpoint });
  }

  private onCheckingTimeout(): void {
    this.stopChecking();
    this.transactions.cancelWhere((c) => c.purpose !== 'consent');
    this.nominating = null;
    if (!this.closed)
      this.emit('failed', `no candidate pair was selected within ${this.timers.failAfterMs} ms`);
  }

  // --- Consent freshness (RFC 7675) ---

  private sendConsentRequest(): void {
    if (this.selected) this.sendRequest('consent', this.selected, null);
  }

  private onConsentLost(): void {
    this.selected = null;
    this.transactions.clear();
    this.stopChecking();
    if (!this.closed) {
      this.emit('consentLost', `no authenticated response for ${this.timers.consentTimeoutMs} ms`);
    }
  }

  /** Every datagram leaves here, so nothing goes out after close, and a send that throws is a lost datagram. */
  private transmit(data: Buffer, to: IceEndpoint): void {
    if (this.closed) return;
    try {
      this.options.send(data, to);
    } catch {
      // The socket is going away with the call; the check times out as if the datagram were lost.
    }
  }
}
