import type { Logger } from 'pino';
import type { GraphNumberConfig } from '../../config/whatsappGraphSchema.js';
import type { WebhookEventStore } from '../../store/webhookEventStore.js';
import type { InboundRoute } from '../inbound/inboundInvites.js';
import { GraphApi } from './graphApi.js';
import { GraphLeg } from './graphLeg.js';
import { GRAPH_TRUNK } from './graphTrunk.js';
import type { GraphCallEvent } from './graphWebhook.js';

/** Who takes the calls (the call layer's InboundCalls): refuses the leg itself when it may not. */
export interface GraphCallSink {
  /** Resolves to the call's id, or undefined when it was refused. */
  offer(leg: GraphLeg, route: InboundRoute, log: Logger): Promise<string | undefined>;
}

/** How long events of a wacid nobody follows yet are kept, and for how many calls at most. */
const EARLY_EVENTS_MS = 30_000;
const MAX_EARLY_CALLS = 1000;

export interface GraphCallsDeps {
  numbers: readonly GraphNumberConfig[];
  events: WebhookEventStore;
  calls: GraphCallSink;
  logger: Logger;
  now: () => Date;
  fetch?: typeof fetch;
}

/**
 * WhatsApp Graph-mode calls, both ways, as webhooks and call actions. A user-initiated `connect`
 * with the caller's SDP offer is a new leg for the number's app; a `terminate` ends the leg it
 * names; the events of a call the business placed (its answer, RINGING, ACCEPTED, REJECTED,
 * terminate) go to whoever placed it (`follow`). Each (wacid, event) acts once, however often
 * Meta (or a control plane relaying it) delivers it.
 */
export class GraphCalls {
  private readonly byPhoneNumberId = new Map<string, { config: GraphNumberConfig; api: GraphApi }>();
  private readonly legs = new Map<string, GraphLeg>();
  /** Calls the business placed, by wacid: their events go to whoever placed them. */
  private readonly followers = new Map<string, (event: GraphCallEvent) => void>();
  /**
   * Events of a wacid nobody follows yet: Meta may send a placed call's first webhook before the
   * connect request that placed it has returned the wacid. Kept briefly, then dropped.
   */
  private readonly early = new Map<string, { at: number; events: GraphCallEvent[] }>();

  constructor(private readonly deps: GraphCallsDeps) {
    for (const config of deps.numbers) {
      this.byPhoneNumberId.set(config.phoneNumberId, { config, api: new GraphApi(config, deps.fetch) });
    }
  }

  /** The app secrets webhooks may be signed with. */
  get secrets(): string[] {
    return [...new Set(this.deps.numbers.map((number) => number.appSecret))];
  }

  /** Whether `token` is one a number's webhook registration uses (GET hub.verify_token). */
  verifies(token: string): boolean {
    return this.deps.numbers.some((number) => number.verifyToken === token);
  }

  /** Whether the number `phoneNumberId` is ours and its webhooks are signed with `secret`. */
  signedBy(phoneNumberId: string, secret: string): boolean {
    return this.byPhoneNumberId.get(phoneNumberId)?.config.appSecret === secret;
  }

  /** Every configured Graph number, with its API. */
  numbers(): { config: GraphNumberConfig; api: GraphApi }[] {
    return [...this.byPhoneNumberId.values()];
  }

  /** The number `from` of app `appId`, with its API, when it is one of ours in Graph mode. */
  numberFor(appId: string, from: string): { config: GraphNumberConfig; api: GraphApi } | undefined {
    for (const number of this.byPhoneNumberId.values()) {
      if (number.config.appId === appId && number.config.number === from) return number;
    }
    return undefined;
  }

  /**
   * Hands every later event of the call `wacid` (one the business placed) to `listener`, and
   * those that came before it asked. Returns the way to stop.
   */
  follow(wacid: string, listener: (event: GraphCallEvent) => void): () => void {
    this.followers.set(wacid, listener);
    const waiting = this.early.get(wacid);
    this.early.delete(wacid);
    for (const event of waiting?.events ?? []) listener(event);
    return () => {
      if (this.followers.get(wacid) === listener) this.followers.delete(wacid);
    };
  }

  /** Live legs, for shutdown and tests. */
  get liveLegs(): number {
    return this.legs.size + this.followers.size;
  }

  /**
   * Acts on one webhook event, once however often it is delivered. Events taken one after
   * another act in that order: the check that it is new is the only wait, and the store answers
   * checks in the order they were asked.
   */
  async take(event: GraphCallEvent): Promise<void> {
    const log = this.deps.logger.child({ wacid: event.wacid, event: event.event });
    const number = this.byPhoneNumberId.get(event.phoneNumberId);
    if (!number) {
      log.warn(
        { phoneNumberId: event.phoneNumberId },
        'webhook for a phone number id that is not configured',
      );
      return;
    }
    const kind = event.event === 'status' ? `status:${event.status}` : event.event;
    if (!(await this.deps.events.firstTime(event.wacid, kind, this.deps.now().toISOString()))) {
      log.info('webhook event already taken; ignored');
      return;
    }
    const follower = this.followers.get(event.wacid);
    if (follower) {
      follower(event);
      return;
    }
    if (event.event === 'status' || (event.event === 'connect' && event.session?.type === 'answer')) {
      this.keepEarly(event);
      return;
    }
    if (event.event === 'terminate' && !this.legs.has(event.wacid)) {
      // Perhaps a placed call's, ahead of its wacid; perhaps one that ended here first.
      this.keepEarly(event);
    }
    if (event.event === 'terminate') {
      this.terminate(event, log);
      return;
    }
    this.connect(event, number, log);
  }

  private keepEarly(event: GraphCallEvent): void {
    const now = Date.now();
    for (const [wacid, kept] of this.early) if (now - kept.at > EARLY_EVENTS_MS) this.early.delete(wacid);
    if (this.early.size >= MAX_EARLY_CALLS) return;
    const kept = this.early.get(event.wacid) ?? { at: now, events: [] };
    kept.events.push(event);
    this.early.set(event.wacid, kept);
  }

  private connect(
    event: GraphCallEvent,
    number: { config: GraphNumberConfig; api: GraphApi },
    log: Logger,
  ): void {
    if (event.session?.type !== 'offer') {
      log.warn({ direction: event.direction }, 'connect with no SDP offer for a call nobody placed');
      return;
    }
    const leg = new GraphLeg(event.wacid, event.session.sdp, number.api, log);
    this.legs.set(event.wacid, leg);
    leg.onFinished(() => this.legs.delete(event.wacid));
    const route: InboundRoute = {
      appId: number.config.appId,
      trunk: { name: GRAPH_TRUNK, kind: 'whatsapp' },
      via: 'graph',
      number: number.config.number,
      caller: callerAddress(event.from),
      sipCallId: null,
      whatsapp: { wacid: event.wacid, ...(event.from ? { userId: event.from } : {}) },
    };
    // The leg is known from here on: a terminate arriving while the call is admitted finds it.
    void this.deps.calls.offer(leg, route, log).then(
      (callId) => {
        if (callId === undefined && this.legs.get(event.wacid) === leg) this.legs.delete(event.wacid);
      },
      (error: unknown) => log.error({ err: error }, 'offering a Graph call failed'),
    );
  }

  private terminate(event: GraphCallEvent, log: Logger): void {
    const leg = this.legs.get(event.wacid);
    if (!leg) {
      log.info({ status: event.status }, 'terminate for a call with no live leg (ended here first)');
      return;
    }
    this.legs.delete(event.wacid);
    leg.terminated({ durationSeconds: event.durationSeconds });
  }
}

/** Meta's `from` is the caller's WhatsApp id: digits of a phone number (shown as E.164), or a BSUID. */
function callerAddress(from: string | undefined): string | undefined {
  if (!from) return undefined;
  return /^[1-9][0-9]{6,14}$/.test(from) ? `+${from}` : from;
}
